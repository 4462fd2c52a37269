namespace ReadHistory.Server.Hosting;

/// <summary><c>readhistory migrate</c>: creates or upgrades the schema, then exits.</summary>
internal static class MigrateCommand
{
    /// <summary>Runs the migration; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        _ = args;
        await Console.Error.WriteLineAsync("error: migrate needs the storage layer, which this build does not have yet").ConfigureAwait(false);
        return 1;
    }
}
