using System.Threading.Channels;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Measures a pool's false-positive rate against the database instead of a model: a fraction of the Checks answered
/// from memory are sampled; from each, a few ids are drawn at random. An id the filter called unread is a negative (no
/// false negatives: nothing to verify). Those it called read are re-checked against the database, off the hot path
/// (a bounded queue, one worker, the low-priority pool, at most a configured number of queries per second); one the
/// database does not hold is a false positive, and a negative too. The measured rate is false positives over
/// negatives, exported per pool with its sample count.
/// </summary>
/// <remarks>
/// The decision to sample a Check is taken before its answers are looked at (the draw, the query budget, room in the
/// queue), so which Checks are kept does not depend on what they answered and the rate is not biased by it. A sample
/// whose user was dropped (ForgetUser, eviction) before its query ran is discarded: a forgotten read is not a false
/// positive. Sampling a Check costs the hot path one random draw; a sampled one copies at most
/// <see cref="FalsePositiveVerifierOptions.IdsPerSample"/> ids.
/// </remarks>
internal sealed class FalsePositiveVerifier : IAsyncDisposable
{
    private readonly string _pool;
    private readonly FalsePositiveVerifierOptions _options;
    private readonly IHistorySource _source;
    private readonly Func<ulong, bool> _stillHeld;
    private readonly ILogger _logger;
    private readonly Channel<Sample> _queue;
    private readonly TokenBucketRateLimiter _budget;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _worker;
    private readonly Counter.Child _negatives;
    private readonly Counter.Child _falsePositives;
    private readonly Counter.Child _verified;
    private readonly Counter.Child _skippedBudget;
    private readonly Counter.Child _skippedQueue;
    private readonly Counter.Child _discarded;
    private readonly Counter.Child _errors;
    private readonly Gauge.Child _measured;
    private readonly Gauge.Child _target;
    private long _lastErrorLog;

    /// <summary>
    /// A verifier of <paramref name="pool"/> (whose filters are sized for <paramref name="targetRate"/>), checking against
    /// <paramref name="source"/>; <paramref name="stillHeld"/> says whether a user is still in memory when its sample's
    /// query returns. Series go to <paramref name="registry"/>.
    /// </summary>
    public FalsePositiveVerifier(string pool, double targetRate, FalsePositiveVerifierOptions options, IHistorySource source, Func<ulong, bool> stillHeld, ILogger logger, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(stillHeld);
        options.Validate();
        _pool = pool;
        _options = options;
        _source = source;
        _stillHeld = stillHeld;
        _logger = logger;
        _queue = Channel.CreateBounded<Sample>(new BoundedChannelOptions(options.QueueLength) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
        var perSecond = Math.Max(1, (int)Math.Ceiling(options.QueriesPerSecond));
        _budget = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond,
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });

        var factory = Metrics.WithCustomRegistry(registry);
        var ids = factory.CreateCounter("readhistory_cache_fpr_sampled_ids_total", "Ids of sampled Checks answered from memory, by what they turned out to be: negative (unread in the database: the denominator of the measured rate), false_positive (the filter said read, the database holds no such read; counted in negative too), verified_read (the filter said read and the database holds it)", "pool", "outcome");
        _negatives = ids.WithLabels(pool, "negative");
        _falsePositives = ids.WithLabels(pool, "false_positive");
        _verified = ids.WithLabels(pool, "verified_read");
        var skipped = factory.CreateCounter("readhistory_cache_fpr_samples_skipped_total", "Checks drawn for the false-positive verifier and not measured: budget (the database query budget was spent), queue (the verifier was behind), discarded (the user left memory before its query returned), error (the query failed)", "pool", "reason");
        _skippedBudget = skipped.WithLabels(pool, "budget");
        _skippedQueue = skipped.WithLabels(pool, "queue");
        _discarded = skipped.WithLabels(pool, "discarded");
        _errors = skipped.WithLabels(pool, "error");
        _measured = factory.CreateGauge("readhistory_cache_false_positive_rate_measured", "False positives over negatives among the ids the verifier sampled since start (readhistory_cache_fpr_sampled_ids_total gives it over any window)", "pool").WithLabels(pool);
        // The alert compares the measured rate with this, per pool (monitoring/alerts.yml).
        _target = factory.CreateGauge("readhistory_cache_false_positive_rate_target", "The false-positive rate the pool's filters are sized for (Cache:TargetFalsePositiveRate); exported with the verifier", "pool").WithLabels(pool);
        _target.Set(targetRate);
        _worker = Task.Run(RunAsync);
    }

    /// <summary>Negatives measured since start (the measured rate's denominator).</summary>
    public long Negatives => (long)_negatives.Value;

    /// <summary>False positives found since start.</summary>
    public long FalsePositives => (long)_falsePositives.Value;

    /// <summary>Ids called read that the database holds, since start.</summary>
    public long VerifiedReads => (long)_verified.Value;

    /// <summary>False positives over negatives since start; 0 before the first negative.</summary>
    public double MeasuredRate => Negatives == 0 ? 0 : FalsePositives / (double)Negatives;

    /// <summary>
    /// Offers a Check answered from memory: <paramref name="readBitmap"/> is its answer (bit i set = ids[i] called
    /// read). Returns at once; most Checks are not drawn.
    /// </summary>
    public void Offer(ulong userId, ushort contentType, ReadOnlySpan<ulong> contentIds, ReadOnlySpan<byte> readBitmap)
    {
        if (contentIds.IsEmpty || Random.Shared.NextDouble() >= _options.SampleFraction)
        {
            return;
        }

        // Decided before the answers are read: whether there is room, then whether a query may be spent.
        if (_queue.Reader.Count >= _options.QueueLength)
        {
            _skippedQueue.Inc();
            return;
        }

        using var lease = _budget.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            _skippedBudget.Inc();
            return;
        }

        var draws = _options.IdsPerSample;
        var calledRead = new List<ulong>(draws);
        var negatives = 0;
        for (var k = 0; k < draws; k++)
        {
            // With replacement: each draw is one uniform pick of an id the Check asked about.
            var i = Random.Shared.Next(contentIds.Length);
            if ((readBitmap[i >> 3] & (1 << (i & 7))) != 0)
            {
                calledRead.Add(contentIds[i]);
            }
            else
            {
                negatives++;
            }
        }

        if (calledRead.Count == 0)
        {
            Record(negatives, falsePositives: 0, verified: 0);
            return;
        }

        if (!_queue.Writer.TryWrite(new Sample(userId, contentType, [.. calledRead], negatives)))
        {
            _skippedQueue.Inc();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _worker.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the sample in flight is not measured.
        }

        _budget.Dispose();
        _stopping.Dispose();
        ChildBase[] children = [_negatives, _falsePositives, _verified, _skippedBudget, _skippedQueue, _discarded, _errors, _measured, _target];
        foreach (var child in children)
        {
            child.Remove();
        }
    }

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        await foreach (var sample in _queue.Reader.ReadAllAsync(token).ConfigureAwait(false))
        {
            var ids = sample.CalledRead;
            var bitmap = new byte[(ids.Length + 7) / 8];
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
                deadline.CancelAfter(_options.QueryTimeout);
                await _source.LowPriorityPointQueryAsync(sample.UserId, sample.ContentType, ids, bitmap, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                _errors.Inc();
                var now = Environment.TickCount64;
                if (now - Interlocked.Read(ref _lastErrorLog) >= 10_000)
                {
                    Interlocked.Exchange(ref _lastErrorLog, now);
                    Log.VerifierQueryFailed(_logger, e, _pool);
                }

                continue;
            }

            if (!_stillHeld(sample.UserId))
            {
                _discarded.Inc();
                continue;
            }

            var stored = 0;
            for (var i = 0; i < ids.Length; i++)
            {
                stored += (bitmap[i >> 3] >> (i & 7)) & 1;
            }

            var falsePositives = ids.Length - stored;
            Record(sample.Negatives + falsePositives, falsePositives, stored);
        }
    }

    private void Record(int negatives, int falsePositives, int verified)
    {
        _negatives.Inc(negatives);
        _falsePositives.Inc(falsePositives);
        _verified.Inc(verified);
        _measured.Set(MeasuredRate);
    }

    private sealed record Sample(ulong UserId, ushort ContentType, ulong[] CalledRead, int Negatives);
}
