using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace ReadHistory.Server.Storage;

/// <summary>
/// readhistory_mysql_pool_connections{pool,state} and readhistory_mysql_pool_waiters{pool}, fed from MySqlConnector's
/// own meter: a process-wide listener adds up its db.client.connections.usage (state idle / used) and
/// db.client.connections.pending_requests deltas per <c>pool.name</c> (the data source names: point, scan, ingest,
/// cdc), and each host that uses the database publishes the sums in its registry before every scrape (pattern:
/// docs/metrics.md, "Adding a metric"). The package reports changes, not totals, so the listener must run before the
/// first pool opens a connection; the driver's meter is process-wide, so hosts sharing a process (tests) see the same
/// sums.
/// </summary>
internal sealed class MySqlPoolMetrics : IDisposable
{
    private const int Idle = 0;
    private const int Used = 1;
    private const int Pending = 2;

    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<string, long[]> _pools = new(StringComparer.Ordinal);

    private MySqlPoolMetrics()
    {
        _listener = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == "MySqlConnector" && instrument.Name is "db.client.connections.usage" or "db.client.connections.pending_requests")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<int>((instrument, delta, tags, state) => OnMeasurement(instrument, delta, tags, state));
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The process-wide listener; touched by every data source this process builds, before it opens anything.</summary>
    public static MySqlPoolMetrics Shared { get; } = new();

    /// <summary>Creates the two gauges in <paramref name="registry"/> and refreshes them from the sums before each scrape.</summary>
    public void Publish(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var factory = Metrics.WithCustomRegistry(registry);
        var connections = factory.CreateGauge("readhistory_mysql_pool_connections", "Pooled database connections by pool and state: idle, used, open (both)", "pool", "state");
        var waiters = factory.CreateGauge("readhistory_mysql_pool_waiters", "Callers waiting for a pooled connection, by pool", "pool");
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (pool, counts) in _pools)
            {
                var idle = Volatile.Read(ref counts[Idle]);
                var used = Volatile.Read(ref counts[Used]);
                connections.WithLabels(pool, "idle").Set(idle);
                connections.WithLabels(pool, "used").Set(used);
                connections.WithLabels(pool, "open").Set(idle + used);
                waiters.WithLabels(pool).Set(Volatile.Read(ref counts[Pending]));
            }
        });
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long delta, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? pool = null;
        var slot = instrument.Name == "db.client.connections.pending_requests" ? Pending : -1;
        foreach (var tag in tags)
        {
            if (tag.Key == "pool.name")
            {
                pool = tag.Value as string;
            }
            else if (tag.Key == "state")
            {
                slot = tag.Value as string == "idle" ? Idle : Used;
            }
        }

        if (pool is not null && slot >= 0)
        {
            Interlocked.Add(ref _pools.GetOrAdd(pool, static _ => new long[3])[slot], delta);
        }
    }
}
