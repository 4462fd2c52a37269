using System.CommandLine;
using ReadHistory.Api.V1;

namespace ReadHistory.Cli.Commands;

/// <summary>The options shared by <c>check</c> and <c>filter</c>, and the request they make.</summary>
internal sealed class CheckRequestOptions
{
    /// <summary>Creates the options and adds them to <paramref name="command"/>.</summary>
    public CheckRequestOptions(Command command)
    {
        command.Options.Add(User);
        command.Options.Add(Type);
        command.Options.Add(Ids);
        command.Options.Add(Session);
        command.Options.Add(Tenant);
        command.Options.Add(DeadlineMs);
    }

    /// <summary><c>--user</c>.</summary>
    public Option<ulong> User { get; } = CliOptions.User();

    /// <summary><c>--type</c>.</summary>
    public Option<uint> Type { get; } = CliOptions.ContentType();

    /// <summary><c>--ids</c>.</summary>
    public Option<ulong[]> Ids { get; } = CliOptions.Ids();

    /// <summary><c>--session</c>.</summary>
    public Option<string> Session { get; } = CliOptions.Session();

    /// <summary><c>--tenant</c>.</summary>
    public Option<string> Tenant { get; } = CliOptions.Tenant();

    /// <summary><c>--deadline-ms</c>.</summary>
    public Option<int?> DeadlineMs { get; } = CliOptions.DeadlineMs(CliContext.DefaultDeadlineMs);

    /// <summary>The request the parsed options describe.</summary>
    public CheckRequest ToRequest(ParseResult parse)
    {
        var request = new CheckRequest
        {
            UserId = parse.GetValue(User),
            ContentType = parse.GetValue(Type),
            SessionId = parse.GetValue(Session) ?? string.Empty,
            Tenant = parse.GetValue(Tenant) ?? string.Empty,
        };
        request.ContentIds.Add(parse.GetValue(Ids) ?? []);
        return request;
    }
}
