using System.CommandLine;

namespace ReadHistory.Cli.Commands;

/// <summary><c>filter</c>: the ids the user has not read.</summary>
internal static class FilterCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("filter", "Print the ids the user has not read, in request order");
        var options = new CheckRequestOptions(command);
        command.SetAction((parse, cancellationToken) => context.RunAsync(parse, options.DeadlineMs, async (client, writer, deadline, token) =>
        {
            var request = options.ToRequest(parse);
            writer.WriteFilter(request, await client.FilterAsync(request, deadline, token).ConfigureAwait(false));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
