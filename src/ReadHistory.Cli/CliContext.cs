using System.CommandLine;
using ReadHistory.Cli.Output;
using Grpc.Core;

namespace ReadHistory.Cli;

/// <summary>
/// What every command shares: the console streams, the global options, the client factory and the
/// clock, and the one place where failures become an <c>error: ...</c> line and an exit code.
/// </summary>
internal sealed class CliContext(TextWriter output, TextWriter error, TextReader input, Func<Uri, string?, IReadHistoryClient> clientFactory, TimeProvider timeProvider)
{
    /// <summary>The deadline of unary calls when <c>--deadline-ms</c> is not given.</summary>
    public const int DefaultDeadlineMs = 10_000;

    /// <summary>Standard output.</summary>
    public TextWriter Output { get; } = output;

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; } = error;

    /// <summary>Standard input (ingest reads it when no file is named).</summary>
    public TextReader Input { get; } = input;

    /// <summary>The global <c>--endpoint</c> option.</summary>
    public Option<Uri> Endpoint { get; } = CliOptions.Endpoint();

    /// <summary>The global <c>--token</c> option.</summary>
    public Option<string?> Token { get; } = CliOptions.Token();

    /// <summary>The global <c>--json</c> option.</summary>
    public Option<bool> Json { get; } = CliOptions.Json();

    /// <summary>
    /// Runs one call: builds the writer, the deadline and the client (which retries a refusal for load after its
    /// retry-after-ms, <see cref="RetryAfterClient"/>), and maps failures to exit codes (1 for bad input, 1 + status
    /// code for a failed call).
    /// </summary>
    public Task<int> RunAsync(
        ParseResult parse,
        Option<int?> deadlineMs,
        Func<IReadHistoryClient, IResultWriter, DateTime?, CancellationToken, Task<int>> call,
        CancellationToken cancellationToken) =>
        RunAsync(parse, deadlineMs, Endpoint, call, cancellationToken);

    /// <summary>Runs one call as <see cref="RunAsync(ParseResult, Option{int?}, Func{IReadHistoryClient, IResultWriter, DateTime?, CancellationToken, Task{int}}, CancellationToken)"/> does, against the address <paramref name="endpoint"/> gives.</summary>
    public async Task<int> RunAsync(
        ParseResult parse,
        Option<int?> deadlineMs,
        Option<Uri> endpoint,
        Func<IReadHistoryClient, IResultWriter, DateTime?, CancellationToken, Task<int>> call,
        CancellationToken cancellationToken)
    {
        IResultWriter writer = parse.GetValue(Json) ? new JsonResultWriter(Output) : new HumanResultWriter(Output);
        DateTime? deadline = parse.GetValue(deadlineMs) is { } ms ? timeProvider.GetUtcNow().UtcDateTime.AddMilliseconds(ms) : null;
        try
        {
            var client = new RetryAfterClient(clientFactory(parse.GetValue(endpoint)!, parse.GetValue(Token)), timeProvider);
            await using (client.ConfigureAwait(false))
            {
                return await call(client, writer, deadline, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException e)
        {
            return Fail(e.StatusCode, e.Status.Detail);
        }
        catch (CliUsageException e)
        {
            await Error.WriteAsync("error: " + e.Message + "\n").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Fail(StatusCode.Cancelled, "interrupted");
        }
    }

    /// <summary>Prints <c>error: STATUS_NAME: message</c> and returns the status's exit code.</summary>
    public int Fail(StatusCode status, string message)
    {
        Error.Write("error: " + ExitCodes.StatusName(status) + ": " + message + "\n");
        return ExitCodes.FromStatus(status);
    }
}
