using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Storage;

/// <summary>A migrated schema under a unique prefix on a test server, with a store and a writer; dropped on dispose.</summary>
internal sealed class StorageHarness : IAsyncDisposable
{
    private StorageHarness(MariaDbServer server, DatabaseOptions options)
    {
        Server = server;
        Options = options;
    }

    public MariaDbServer Server { get; }

    public DatabaseOptions Options { get; }

    public MigrationResult Migration { get; private set; } = null!;

    public HistoryDatabase Database { get; private set; } = null!;

    public HistoryStore Store { get; private set; } = null!;

    public GroupCommitWriter Writer { get; private set; } = null!;

    public static DatabaseOptions OptionsFor(MariaDbServer server, string prefix, int databases = 2, int tables = 2) => ShippedDefaults.Database(o =>
    {
        o.ConnectionString = server.ConnectionString();
        o.DatabasePrefix = prefix + "_" + Guid.NewGuid().ToString("N")[..8];
        o.Databases = databases;
        o.TablesPerDatabase = tables;
        o.GroupCommitMaxDelay = TimeSpan.FromMilliseconds(2);
        o.GroupCommitRetryDelay = TimeSpan.FromMilliseconds(20);
    });

    public static async Task<StorageHarness> CreateAsync(MariaDbServer server, string prefix, int databases = 2, int tables = 2, Action<DatabaseOptions>? configure = null)
    {
        var options = OptionsFor(server, prefix, databases, tables);
        configure?.Invoke(options);
        var harness = new StorageHarness(server, options);
        harness.Migration = await SchemaMigrator.MigrateAsync(options, NullLogger.Instance, CancellationToken.None).DefaultTimeout();
        harness.Database = await HistoryDatabase.OpenAsync(options, NullLogger.Instance, CancellationToken.None).DefaultTimeout();
        harness.Store = new HistoryStore(harness.Database, NullLogger.Instance, new StorageMetrics());
        harness.Writer = new GroupCommitWriter(options, harness.Database.Map, new MySqlShardFlusher(harness.Database), TimeProvider.System, NullLogger.Instance, new StorageMetrics());
        return harness;
    }

    public string TableOf(ulong user) => Database.TableOf(user);

    public async Task<long> CountWithCliAsync(ulong user) =>
        long.Parse((await Server.SqlAsync($"SELECT COUNT(*) FROM {TableOf(user)} WHERE user_id = {user}")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public async Task<List<ScannedRow>> ScanAllAsync(ulong user)
    {
        var rows = new List<ScannedRow>();
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        await foreach (var row in Store.ScanAsync(user, cts.Token))
        {
            rows.Add(row);
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Writer.DisposeAsync().AsTask().DefaultTimeout();
        }
        catch (Exception e) when (e is TimeoutException or StorageWriteException)
        {
            // The test may have broken the schema on purpose; the databases are dropped below either way.
        }

        await Database.DisposeAsync();

        if (Server.IsRunning)
        {
            var drops = string.Concat(Enumerable.Range(0, Options.Databases).Select(d => $"DROP DATABASE IF EXISTS `{Options.DatabasePrefix}_{d}`;"));
            await Server.SqlAsync(drops + $"DROP DATABASE IF EXISTS `{Options.DatabasePrefix}_meta`;");
        }
    }
}
