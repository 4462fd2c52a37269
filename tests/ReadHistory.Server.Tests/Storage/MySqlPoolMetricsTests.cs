using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Storage;

[Collection(MariaDbFixture.Collection)]
public sealed class MySqlPoolMetricsTests(MariaDbFixture fixture)
{
    [Fact]
    public async Task The_point_scan_and_ingest_pools_are_separate_series()
    {
        await using var h = await StorageHarness.CreateAsync(fixture.Server, "poolmetrics", 1, 1);
        var seen = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = static (instrument, l) =>
        {
            if (instrument.Meter.Name == MySqlPoolMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            seen[instrument.Name + "{" + string.Join(",", tags.ToArray().OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}")) + "}"] = value);
        listener.Start();

        // One connection held open on each pool: each pool has at least one used connection right now.
        await using var point = await h.Database.Connections.OpenAsync(StoragePool.Point, CancellationToken.None).DefaultTimeout();
        await using var scan = await h.Database.Connections.OpenAsync(StoragePool.Scan, CancellationToken.None).DefaultTimeout();
        await using var ingest = await h.Database.Connections.OpenAsync(StoragePool.Ingest, CancellationToken.None).DefaultTimeout();
        listener.RecordObservableInstruments();

        foreach (var pool in new[] { "point", "scan", "ingest" })
        {
            Assert.True(seen.GetValueOrDefault($"readhistory_mysql_pool_connections{{pool={pool},state=used}}") >= 1, pool + ": " + string.Join("; ", seen.Keys));
            Assert.True(seen.ContainsKey($"readhistory_mysql_pool_connections{{pool={pool},state=idle}}"), pool);
            Assert.True(seen.GetValueOrDefault($"readhistory_mysql_pool_connections{{pool={pool},state=open}}") >= 1, pool);
            Assert.True(seen.ContainsKey($"readhistory_mysql_pool_waiters{{pool={pool}}}"), pool);
        }
    }
}
