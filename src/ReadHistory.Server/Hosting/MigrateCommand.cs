using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Hosting;

/// <summary><c>readhistory migrate</c>: creates or upgrades the schema idempotently, then exits.</summary>
internal static class MigrateCommand
{
    /// <summary>Runs the migration; returns the exit code (0 done, 1 failed, 2 bad configuration).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var problems = ServerOptionsRegistration.Problems(configuration);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync("configuration error: " + problem).ConfigureAwait(false);
            }

            return 2;
        }

        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>()!;
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
        var logger = loggers.CreateLogger("ReadHistory.Migrate");
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        try
        {
            var result = await SchemaMigrator.MigrateAsync(database, logger, cancel.Token).ConfigureAwait(false);
            Console.WriteLine(result.Changed
                ? $"migrated: schema version {result.FromVersion} -> {result.ToVersion}, {result.TablesCreated} tables created"
                : $"schema is current (version {result.ToVersion}); nothing to do");
            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("error: migrate failed: " + e.Message).ConfigureAwait(false);
            return 1;
        }
    }
}
