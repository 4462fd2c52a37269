using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ReadHistory.Server.Storage;

/// <summary>
/// readhistory_mysql_pool_connections{pool,state} and readhistory_mysql_pool_waiters{pool} (Meter "ReadHistory.MySql"),
/// fed from MySqlConnector's own meter: a listener adds up its db.client.connections.usage (state idle / used) and
/// db.client.connections.pending_requests deltas per <c>pool.name</c> (the data source names: point, scan, ingest,
/// cdc), and observable gauges report the sums. One instance per process; it must listen before the first pool
/// opens a connection, since the package reports changes, not totals.
/// </summary>
internal sealed class MySqlPoolMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "ReadHistory.MySql";

    private const int Idle = 0;
    private const int Used = 1;
    private const int Pending = 2;

    private readonly Meter _meter;
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<string, long[]> _pools = new(StringComparer.Ordinal);

    /// <summary>Creates the gauges and starts listening to MySqlConnector.</summary>
    public MySqlPoolMetrics()
    {
        _meter = new Meter(MeterName);
        _meter.CreateObservableGauge("readhistory_mysql_pool_connections", ObserveConnections, "{connection}", "Pooled database connections by pool and state: idle, used, open (both)");
        _meter.CreateObservableGauge("readhistory_mysql_pool_waiters", ObserveWaiters, "{waiter}", "Callers waiting for a pooled connection, by pool");
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

    /// <summary>The process-wide instance; touched by every data source this process builds, before it opens anything.</summary>
    public static MySqlPoolMetrics Shared { get; } = new();

    /// <inheritdoc />
    public void Dispose()
    {
        _listener.Dispose();
        _meter.Dispose();
    }

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

    private IEnumerable<Measurement<long>> ObserveConnections()
    {
        foreach (var (pool, counts) in _pools)
        {
            var idle = Volatile.Read(ref counts[Idle]);
            var used = Volatile.Read(ref counts[Used]);
            yield return new Measurement<long>(idle, new("pool", pool), new("state", "idle"));
            yield return new Measurement<long>(used, new("pool", pool), new("state", "used"));
            yield return new Measurement<long>(idle + used, new("pool", pool), new("state", "open"));
        }
    }

    private IEnumerable<Measurement<long>> ObserveWaiters()
    {
        foreach (var (pool, counts) in _pools)
        {
            yield return new Measurement<long>(Volatile.Read(ref counts[Pending]), new KeyValuePair<string, object?>("pool", pool));
        }
    }
}
