namespace ReadHistory.Cli.Tests;

/// <summary>The outcome of one in-process run of the CLI.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>Runs the CLI's entry point against <paramref name="client"/> with a fixed clock.</summary>
    public static async Task<CliRun> RunWithInputAsync(FakeReadHistoryClient client, string input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var reader = new StringReader(input);
        var exitCode = await CliApplication.RunAsync(args, output, error, reader, (endpoint, token) =>
        {
            client.Endpoint = endpoint;
            client.Token = token;
            return client;
        }, new FixedTimeProvider(Now)).WaitAsync(TimeSpan.FromSeconds(30));
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    public static Task<CliRun> RunAsync(FakeReadHistoryClient client, params string[] args) => RunWithInputAsync(client, string.Empty, args);

    /// <summary>Runs the CLI's entry point with its real gRPC client and the system clock.</summary>
    public static async Task<CliRun> RunRealAsync(string input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var reader = new StringReader(input);
        var exitCode = await CliApplication.RunAsync(args, output, error, reader, RpcReadHistoryClient.Create).WaitAsync(TimeSpan.FromSeconds(30));
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
