using Prometheus;

namespace ReadHistory.Server.Storage;

/// <summary>
/// The storage series; one instance per host, shared by its store and writer (pattern: docs/metrics.md, "Adding a
/// metric").
/// </summary>
internal sealed class StorageMetrics
{
    private readonly Lock _gate = new();
    private readonly List<Func<long>> _queues = [];
    private readonly Gauge _queueRows;
    private readonly Counter _refused;

    /// <summary>Creates the series in <paramref name="registry"/> (a throwaway registry of its own when null).</summary>
    public StorageMetrics(CollectorRegistry? registry = null)
    {
        registry ??= Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(registry);
        IngestRows = factory.CreateCounter("readhistory_storage_ingest_rows_total", "Rows committed by group commit");
        CommitDuration = factory.CreateHistogram("readhistory_storage_commit_duration_seconds", "Duration of one group-commit flush, retries included",
            new HistogramConfiguration { Buckets = MetricBuckets.Seconds });
        PointQueries = factory.CreateCounter("readhistory_storage_point_queries_total", "Point queries (one per request, whatever its chunking)");
        ScanRows = factory.CreateCounter("readhistory_storage_scan_rows_total", "Rows streamed by rebuild scans");
        QueueDelay = factory.CreateHistogram("readhistory_storage_queue_delay_seconds", "Time the oldest write of each group-commit flush waited in its shard's queue before the flush took it",
            new HistogramConfiguration { Buckets = MetricBuckets.Seconds });
        _refused = factory.CreateCounter("readhistory_storage_writes_refused_total", "Writes refused with RESOURCE_EXHAUSTED by group commit: queue_rows (GroupCommitMaxQueuedRows reached) or queue_delay (the shard's oldest queued write waited past GroupCommitMaxQueueDelay)", "reason");
        RefusedForRows = _refused.WithLabels("queue_rows");
        RefusedForDelay = _refused.WithLabels("queue_delay");
        _queueRows = factory.CreateGauge("readhistory_storage_ingest_queue_rows", "Rows queued or in flight in group commit");
        registry.AddBeforeCollectCallback(ObserveQueues);
    }

    /// <summary>The instance of stores and writers created without one: its registry is never scraped.</summary>
    public static StorageMetrics Shared { get; } = new();

    /// <summary>readhistory_storage_ingest_rows_total.</summary>
    public Counter IngestRows { get; }

    /// <summary>readhistory_storage_commit_duration_seconds.</summary>
    public Histogram CommitDuration { get; }

    /// <summary>readhistory_storage_queue_delay_seconds.</summary>
    public Histogram QueueDelay { get; }

    /// <summary>readhistory_storage_writes_refused_total{reason="queue_rows"}.</summary>
    public Counter.Child RefusedForRows { get; }

    /// <summary>readhistory_storage_writes_refused_total{reason="queue_delay"}.</summary>
    public Counter.Child RefusedForDelay { get; }

    /// <summary>readhistory_storage_point_queries_total.</summary>
    public Counter PointQueries { get; }

    /// <summary>readhistory_storage_scan_rows_total.</summary>
    public Counter ScanRows { get; }

    /// <summary>Adds a queue to the queue gauge until the returned handle is disposed.</summary>
    public IDisposable RegisterQueue(Func<long> queuedRows)
    {
        lock (_gate)
        {
            _queues.Add(queuedRows);
        }

        return new Registration(this, queuedRows);
    }

    // Runs before each scrape: the gauge is the sum of the queues registered now.
    private void ObserveQueues()
    {
        lock (_gate)
        {
            long sum = 0;
            foreach (var queue in _queues)
            {
                sum += queue();
            }

            _queueRows.Set(sum);
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
