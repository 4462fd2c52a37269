using Prometheus;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The publisher's series (pattern: docs/metrics.md, "Adding a metric"). Tests and status pages read the counters'
/// and gauges' own values.
/// </summary>
internal sealed class CdcMetrics
{
    private readonly Counter _rows;
    private readonly Counter _batches;
    private readonly Counter _epochs;
    private readonly Counter _heartbeats;
    private readonly Gauge _leader;
    private readonly Gauge _lag;

    /// <summary>Creates the series in <paramref name="registry"/> (a throwaway registry of its own when null).</summary>
    public CdcMetrics(CollectorRegistry? registry = null)
    {
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.NewCustomRegistry());
        _rows = factory.CreateCounter("readhistory_cdc_rows_published_total", "History rows published (each row once, whatever the number of pools)");
        _batches = factory.CreateCounter("readhistory_cdc_batches_published_total", "Stream entries appended (one per touched slot per publish)");
        _epochs = factory.CreateCounter("readhistory_cdc_epochs_started_total", "New epochs this process started (replicas drop their filters on each)");
        _heartbeats = factory.CreateCounter("readhistory_cdc_heartbeats_total", "Heartbeat entries appended (one per slot stream that got no batch within Cdc:HeartbeatInterval, per beat)");
        _leader = factory.CreateGauge("readhistory_cdc_leader", "1 while this process holds the publisher lease");
        _lag = factory.CreateGauge("readhistory_cdc_lag_seconds", "Now minus the commit time of the last published change (0 while caught up with the binlog)");
    }

    /// <summary>Rows published so far.</summary>
    public long RowsPublished => (long)_rows.Value;

    /// <summary>Batches published so far.</summary>
    public long BatchesPublished => (long)_batches.Value;

    /// <summary>Whether the leader gauge is 1.</summary>
    public bool IsLeader => _leader.Value == 1;

    /// <summary>The lag gauge's value.</summary>
    public double LagSeconds => _lag.Value;

    /// <summary>Records a successful publish.</summary>
    public void Published(int rows, int batches)
    {
        _rows.Inc(rows);
        _batches.Inc(batches);
    }

    /// <summary>Heartbeat entries appended so far.</summary>
    public long HeartbeatsPublished => (long)_heartbeats.Value;

    /// <summary>Records heartbeat entries appended.</summary>
    public void Heartbeats(int entries) => _heartbeats.Inc(entries);

    /// <summary>Records a new epoch.</summary>
    public void EpochStarted() => _epochs.Inc();

    /// <summary>Sets the leader gauge.</summary>
    public void SetLeader(bool leader) => _leader.Set(leader ? 1 : 0);

    /// <summary>Sets the lag gauge.</summary>
    public void SetLag(double seconds) => _lag.Set(Math.Max(0, seconds));
}
