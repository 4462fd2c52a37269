using System.CommandLine;
using System.Globalization;
using System.Text;

namespace ReadHistory.Cli.Commands;

/// <summary><c>ingest</c>: streams read events from a file or standard input with the client-streaming Ingest call.</summary>
internal static class IngestCommand
{
    /// <summary>Items per Ingest message when <c>--batch-size</c> is not given.</summary>
    public const int DefaultBatchSize = 1000;

    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("ingest", "Stream read events, lines of user,type,id[,read_at_ms], from a file or standard input");
        var file = new Option<string>("--file")
        {
            Description = "The events file; '-' or none reads standard input",
            DefaultValueFactory = _ => "-",
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = $"Most events per Ingest message (1 .. {CliOptions.MaxIdsPerCall})",
            DefaultValueFactory = _ => DefaultBatchSize,
            CustomParser = static result => (int)CliOptions.ParseUInt64(result, "--batch-size", 1, CliOptions.MaxIdsPerCall),
        };
        var tenant = CliOptions.Tenant();
        var deadlineMs = CliOptions.DeadlineMs(null);
        command.Options.Add(file);
        command.Options.Add(batchSize);
        command.Options.Add(tenant);
        command.Options.Add(deadlineMs);
        command.SetAction((parse, cancellationToken) => context.RunAsync(parse, deadlineMs, async (client, writer, deadline, token) =>
        {
            var path = parse.GetValue(file) ?? "-";
            using var input = path == "-" ? null : Open(path);
            var reader = new IngestEventReader(input ?? context.Input, path == "-" ? "stdin" : path, parse.GetValue(batchSize), parse.GetValue(tenant) ?? string.Empty);
            var response = await client.IngestAsync(reader.ReadBatchesAsync(token), deadline, token).ConfigureAwait(false);
            writer.WriteIngest(reader.Progress, response);
            if (response.Rejected > 0)
            {
                // The call succeeded; refused rows are the sender's to fix, so they are reported, not failed.
                await context.Error.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"warning: {response.Rejected} events rejected: {response.FirstError}\n")).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static StreamReader Open(string path)
    {
        try
        {
            return new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { Options = FileOptions.SequentialScan });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--file: cannot read '{path}': {e.Message}", e);
        }
    }
}
