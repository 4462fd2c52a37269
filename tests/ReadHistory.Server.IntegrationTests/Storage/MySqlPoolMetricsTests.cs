using Prometheus;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Storage;

[Collection(MariaDbFixture.Collection)]
public sealed class MySqlPoolMetricsTests(MariaDbFixture fixture)
{
    [Fact]
    public async Task The_point_scan_and_ingest_pools_are_separate_series()
    {
        await using var h = await StorageHarness.CreateAsync(fixture.Server, "poolmetrics", 1, 1);
        var registry = Metrics.NewCustomRegistry();
        MySqlPoolMetrics.Shared.Publish(registry);

        // One connection held open on each pool: each pool has at least one used connection right now.
        await using var point = await h.Database.Connections.OpenAsync(StoragePool.Point, CancellationToken.None).DefaultTimeout();
        await using var scan = await h.Database.Connections.OpenAsync(StoragePool.Scan, CancellationToken.None).DefaultTimeout();
        await using var ingest = await h.Database.Connections.OpenAsync(StoragePool.Ingest, CancellationToken.None).DefaultTimeout();
        var lines = await Exposition.ScrapeLinesAsync(registry).DefaultTimeout();

        foreach (var pool in new[] { "point", "scan", "ingest" })
        {
            Assert.True(Value(lines, $"readhistory_mysql_pool_connections{{pool=\"{pool}\",state=\"used\"}}") >= 1, pool + ": " + string.Join("; ", lines));
            Assert.NotNull(Value(lines, $"readhistory_mysql_pool_connections{{pool=\"{pool}\",state=\"idle\"}}"));
            Assert.True(Value(lines, $"readhistory_mysql_pool_connections{{pool=\"{pool}\",state=\"open\"}}") >= 1, pool);
            Assert.NotNull(Value(lines, $"readhistory_mysql_pool_waiters{{pool=\"{pool}\"}}"));
        }
    }

    private static double? Value(string[] lines, string series)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
