using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Storage;

[Collection(MariaDbFixture.Collection)]
public sealed class SchemaMigratorTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Migrating_twice_changes_nothing_the_second_time_and_records_the_version()
    {
        await using var harness = await StorageHarness.CreateAsync(Server, "mig");
        Assert.Equal(4, harness.Migration.TablesCreated);
        Assert.Equal(0, harness.Migration.FromVersion);
        var before = await Server.SqlAsync($"SELECT version, engine, shard_databases, shard_tables, updated_at FROM `{harness.Options.DatabasePrefix}_meta`.schema_version");

        await Task.Delay(1100);
        var again = await SchemaMigrator.MigrateAsync(harness.Options, NullLogger.Instance, CancellationToken.None).DefaultTimeout();

        Assert.False(again.Changed);
        Assert.Equal(SchemaMigrator.CurrentVersion, again.FromVersion);
        Assert.Equal(before, await Server.SqlAsync($"SELECT version, engine, shard_databases, shard_tables, updated_at FROM `{harness.Options.DatabasePrefix}_meta`.schema_version"));
        Assert.StartsWith("1\tRocksDb\t2\t2\t", before, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MyRocks_is_chosen_when_the_server_has_it_with_compression_on_its_column_family()
    {
        await using var harness = await StorageHarness.CreateAsync(Server, "rocks", 1, 1);

        var create = await Server.SqlAsync($"SHOW CREATE TABLE {harness.TableOf(1)}");
        Assert.Equal(StorageEngine.RocksDb, harness.Migration.Engine);
        Assert.Contains("ENGINE=ROCKSDB", create, StringComparison.Ordinal);
        Assert.Contains("cfname=rh_reads", create, StringComparison.Ordinal);
        var compression = await Server.SqlAsync("SELECT VALUE FROM information_schema.ROCKSDB_CF_OPTIONS WHERE CF_NAME = 'rh_reads' AND OPTION_TYPE IN ('COMPRESSION_TYPE', 'BOTTOMMOST_COMPRESSION') ORDER BY OPTION_TYPE");
        Assert.Equal("kZSTDNotFinalCompression\nkLZ4Compression\n", compression);
    }

    [Fact]
    public async Task A_different_shard_shape_is_refused()
    {
        await using var harness = await StorageHarness.CreateAsync(Server, "shape");
        var other = StorageHarness.OptionsFor(Server, "x");
        other.DatabasePrefix = harness.Options.DatabasePrefix;
        other.TablesPerDatabase = 3;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SchemaMigrator.MigrateAsync(other, NullLogger.Instance, CancellationToken.None).DefaultTimeout());
        Assert.Contains("2 × 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Opening_a_schema_that_was_never_migrated_says_to_migrate()
    {
        var options = StorageHarness.OptionsFor(Server, "none");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => HistoryDatabase.OpenAsync(options, NullLogger.Instance, CancellationToken.None).DefaultTimeout());
        Assert.Contains("readhistory migrate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_three_pools_have_distinct_connection_strings()
    {
        await using var connections = new StorageConnections(ShippedDefaults.Database(static o => (o.PointPoolSize, o.ScanPoolSize, o.IngestPoolSize) = (8, 8, 8)));

        var strings = Enum.GetValues<StoragePool>().Select(connections.ConnectionString).ToArray();
        Assert.Equal(3, strings.Distinct().Count());
    }
}

/// <summary>A server without the MyRocks plugin of its own.</summary>
public sealed class InnoDbFallbackTests : IAsyncLifetime
{
    private MariaDbServer? _server;

    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = false, Binlog = false });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Compressed_InnoDB_is_chosen_without_MyRocks_and_stores_rows()
    {
        await using var harness = await StorageHarness.CreateAsync(_server!, "inno", 1, 2);

        Assert.Equal(StorageEngine.InnoDbCompressed, harness.Migration.Engine);
        var create = await _server!.SqlAsync($"SHOW CREATE TABLE {harness.TableOf(5)}");
        Assert.Contains("ENGINE=InnoDB", create, StringComparison.Ordinal);
        Assert.Contains("ROW_FORMAT=COMPRESSED", create, StringComparison.Ordinal);
        await harness.Writer.WriteAsync(5, 1, [new StoredRead(42, 1_000_000)]).DefaultTimeout();
        var found = new bool[2];
        await harness.Store.ContainsAsync(5, 1, new ulong[] { 42, 43 }, found).DefaultTimeout();
        Assert.Equal([true, false], found);
    }

    [Fact]
    public async Task Asking_for_MyRocks_where_there_is_none_fails_clearly()
    {
        var options = StorageHarness.OptionsFor(_server!, "norocks");
        options.Engine = StorageEngine.RocksDb;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SchemaMigrator.MigrateAsync(options, NullLogger.Instance, CancellationToken.None).DefaultTimeout());
        Assert.Contains("no MyRocks", error.Message, StringComparison.Ordinal);
    }
}
