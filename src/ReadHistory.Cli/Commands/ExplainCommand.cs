using System.CommandLine;
using ReadHistory.Api.Internal.V1;

namespace ReadHistory.Cli.Commands;

/// <summary><c>explain</c>: asks a cache node why it answers what it answers for one id of one user.</summary>
internal static class ExplainCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command(
            "explain",
            "Ask a cache node (its internal port, --node) for one id of one user: the filter's answer and the layer that gave it, the database's answer, the user's rows, layers and bits, and the estimated and measured false-positive rates");
        var node = CliOptions.Node();
        var user = CliOptions.User();
        var contentType = CliOptions.ContentType();
        var id = new Option<ulong>("--id")
        {
            Description = "The content id to explain",
            Required = true,
        };
        var pool = new Option<string>("--pool")
        {
            Description = "The pool (default: the node's own)",
            DefaultValueFactory = _ => string.Empty,
        };
        var deadlineMs = CliOptions.DeadlineMs(CliContext.DefaultDeadlineMs);
        command.Options.Add(node);
        command.Options.Add(user);
        command.Options.Add(contentType);
        command.Options.Add(id);
        command.Options.Add(pool);
        command.Options.Add(deadlineMs);
        command.SetAction((parse, cancellationToken) => context.RunAsync(parse, deadlineMs, node, async (client, writer, deadline, token) =>
        {
            var request = new ExplainRequest
            {
                Pool = parse.GetValue(pool) ?? string.Empty,
                UserId = parse.GetValue(user),
                ContentType = parse.GetValue(contentType),
                ContentId = parse.GetValue(id),
            };
            writer.WriteExplain(request, await client.ExplainAsync(request, deadline, token).ConfigureAwait(false));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
