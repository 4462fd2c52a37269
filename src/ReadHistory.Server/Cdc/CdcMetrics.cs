using System.Diagnostics.Metrics;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The publisher's instruments (Meter "ReadHistory.Cdc"). Counters are mirrored in fields so tests and status
/// pages read them without a listener.
/// </summary>
internal sealed class CdcMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "ReadHistory.Cdc";

    private readonly Meter _meter;
    private readonly Counter<long> _rows;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _epochs;
    private long _rowsPublished;
    private long _batchesPublished;
    private int _leader;
    private double _lagSeconds;

    /// <summary>Creates the instruments.</summary>
    public CdcMetrics()
    {
        _meter = new Meter(MeterName);
        _rows = _meter.CreateCounter<long>("readhistory_cdc_rows_published_total", "{row}", "History rows published (each row once, whatever the number of pools)");
        _batches = _meter.CreateCounter<long>("readhistory_cdc_batches_published_total", "{batch}", "Stream entries appended (one per touched slot per publish)");
        _epochs = _meter.CreateCounter<long>("readhistory_cdc_epochs_started_total", "{epoch}", "New epochs this process started (replicas drop their filters on each)");
        _meter.CreateObservableGauge("readhistory_cdc_leader", () => Volatile.Read(ref _leader), "1", "1 while this process holds the publisher lease");
        _meter.CreateObservableGauge("readhistory_cdc_lag_seconds", () => Volatile.Read(ref _lagSeconds), "s", "Now minus the commit time of the last published change (0 while caught up with the binlog)");
    }

    /// <summary>The meter (tests listen to this one instance).</summary>
    internal Meter Meter => _meter;

    /// <summary>Rows published so far.</summary>
    public long RowsPublished => Interlocked.Read(ref _rowsPublished);

    /// <summary>Batches published so far.</summary>
    public long BatchesPublished => Interlocked.Read(ref _batchesPublished);

    /// <summary>Whether the leader gauge is 1.</summary>
    public bool IsLeader => Volatile.Read(ref _leader) == 1;

    /// <summary>The lag gauge's value.</summary>
    public double LagSeconds => Volatile.Read(ref _lagSeconds);

    /// <summary>Records a successful publish.</summary>
    public void Published(int rows, int batches)
    {
        Interlocked.Add(ref _rowsPublished, rows);
        Interlocked.Add(ref _batchesPublished, batches);
        _rows.Add(rows);
        _batches.Add(batches);
    }

    /// <summary>Records a new epoch.</summary>
    public void EpochStarted() => _epochs.Add(1);

    /// <summary>Sets the leader gauge.</summary>
    public void SetLeader(bool leader) => Volatile.Write(ref _leader, leader ? 1 : 0);

    /// <summary>Sets the lag gauge.</summary>
    public void SetLag(double seconds) => Volatile.Write(ref _lagSeconds, Math.Max(0, seconds));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
