using System.Diagnostics.Metrics;

namespace ReadHistory.Server.Storage;

/// <summary>The storage instruments (Meter "ReadHistory.Storage"); one instance per process, shared by stores and writers.</summary>
internal sealed class StorageMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "ReadHistory.Storage";

    private readonly Meter _meter;
    private readonly Lock _gate = new();
    private readonly List<Func<long>> _queues = [];

    /// <summary>Creates the instruments on a new meter.</summary>
    public StorageMetrics()
    {
        _meter = new Meter(MeterName);
        IngestRows = _meter.CreateCounter<long>("readhistory_storage_ingest_rows_total", "{row}", "Rows committed by group commit");
        CommitDuration = _meter.CreateHistogram<double>("readhistory_storage_commit_duration_seconds", "s", "Duration of one group-commit flush, retries included");
        PointQueries = _meter.CreateCounter<long>("readhistory_storage_point_queries_total", "{query}", "Point queries (one per request, whatever its chunking)");
        ScanRows = _meter.CreateCounter<long>("readhistory_storage_scan_rows_total", "{row}", "Rows streamed by rebuild scans");
        _meter.CreateObservableGauge("readhistory_storage_ingest_queue_rows", ObserveQueues, "{row}", "Rows queued or in flight in group commit");
    }

    /// <summary>The process-wide instance.</summary>
    public static StorageMetrics Shared { get; } = new();

    /// <summary>readhistory_storage_ingest_rows_total.</summary>
    public Counter<long> IngestRows { get; }

    /// <summary>readhistory_storage_commit_duration_seconds.</summary>
    public Histogram<double> CommitDuration { get; }

    /// <summary>readhistory_storage_point_queries_total.</summary>
    public Counter<long> PointQueries { get; }

    /// <summary>readhistory_storage_scan_rows_total.</summary>
    public Counter<long> ScanRows { get; }

    /// <summary>Adds a queue to the gauge until the returned handle is disposed.</summary>
    public IDisposable RegisterQueue(Func<long> queuedRows)
    {
        lock (_gate)
        {
            _queues.Add(queuedRows);
        }

        return new Registration(this, queuedRows);
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private long ObserveQueues()
    {
        lock (_gate)
        {
            long sum = 0;
            foreach (var queue in _queues)
            {
                sum += queue();
            }

            return sum;
        }
    }

    private sealed class Registration(StorageMetrics owner, Func<long> queue) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._queues.Remove(queue);
            }
        }
    }
}
