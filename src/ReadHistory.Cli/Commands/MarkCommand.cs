using System.CommandLine;
using ReadHistory.Api.V1;

namespace ReadHistory.Cli.Commands;

/// <summary><c>mark</c>: records that the user read the ids.</summary>
internal static class MarkCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("mark", "Record that the user read the ids (answers once durable)");
        var user = CliOptions.User();
        var type = CliOptions.ContentType();
        var ids = CliOptions.Ids();
        var readAtMs = CliOptions.ReadAtMs();
        var session = CliOptions.Session();
        var tenant = CliOptions.Tenant();
        var deadlineMs = CliOptions.DeadlineMs(CliContext.DefaultDeadlineMs);
        command.Options.Add(user);
        command.Options.Add(type);
        command.Options.Add(ids);
        command.Options.Add(readAtMs);
        command.Options.Add(session);
        command.Options.Add(tenant);
        command.Options.Add(deadlineMs);
        command.SetAction((parse, cancellationToken) => context.RunAsync(parse, deadlineMs, async (client, writer, deadline, token) =>
        {
            var request = new MarkReadRequest
            {
                UserId = parse.GetValue(user),
                ContentType = parse.GetValue(type),
                SessionId = parse.GetValue(session) ?? string.Empty,
                Tenant = parse.GetValue(tenant) ?? string.Empty,
            };
            var readAt = parse.GetValue(readAtMs);
            foreach (var id in parse.GetValue(ids) ?? [])
            {
                request.Items.Add(new ReadItem { ContentId = id, ReadAtMs = readAt });
            }

            writer.WriteMarkRead(request, await client.MarkReadAsync(request, deadline, token).ConfigureAwait(false));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
