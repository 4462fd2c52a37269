using System.CommandLine;
using ReadHistory.Cli.Output;

namespace ReadHistory.Cli.Commands;

/// <summary><c>check</c>: which of the ids has the user read.</summary>
internal static class CheckCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("check", "Show which of the ids the user has read");
        var options = new CheckRequestOptions(command);
        command.SetAction((parse, cancellationToken) => context.RunAsync(parse, options.DeadlineMs, async (client, writer, deadline, token) =>
        {
            var request = options.ToRequest(parse);
            var response = await client.CheckAsync(request, deadline, token).ConfigureAwait(false);
            ReadBitmap.EnsureCovers(response.ReadBitmap, request.ContentIds.Count);
            writer.WriteCheck(request, response);
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
