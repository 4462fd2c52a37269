using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cdc;
using StackExchange.Redis;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The second tier (T2) of one pool: filters written back to Redis in the snapshot format (its CRC covers the stamp:
/// the slot stream's epoch and the cursor up to which the filter is coherent), and loaded on a T1 miss, brought up to
/// date from the slot's stream after that cursor. Write-backs go through a bounded queue to one background writer
/// (dropped and counted when full), so eviction and rebuild never wait for Redis; loads, catch-up and deletes are
/// bounded by <see cref="SnapshotTierOptions.LoadTimeout"/>, and any Redis failure is counted and answered by the
/// database path.
/// </summary>
/// <remarks>
/// A snapshot is not used, and is deleted, when its epoch is not the stream's, when the stream no longer holds the
/// entry at its cursor (trimmed past it, or lost in a failover), when a read finds a corrupt entry, or when the
/// catch-up meets a delete of the user: in each case the stream cannot prove what the filter lacks (or the filter
/// holds rows that are gone). Stamp layout (16 bytes, little-endian): epoch u64, then the entry id as
/// <c>ms &lt;&lt; 16 | seq</c> (a cursor whose seq passes 65535 or ms 2^48 is not written back).
/// </remarks>
internal sealed partial class SnapshotTier : IAsyncDisposable
{
    private readonly SnapshotTierOptions _options;
    private readonly ISnapshotStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _pool;
    private readonly Channel<WriteBack> _queue;
    private readonly Task _writer;

    /// <summary>Creates the tier of <paramref name="pool"/> over a store; starts its background writer.</summary>
    public SnapshotTier(string pool, SnapshotTierOptions options, ISnapshotStore store, AppliedCursor position, TimeProvider time, ILogger logger, SnapshotTierMetrics? metrics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pool);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        Position = position ?? throw new ArgumentNullException(nameof(position));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _pool = pool;
        Metrics = metrics ?? new SnapshotTierMetrics(pool);
        _queue = Channel.CreateBounded<WriteBack>(new BoundedChannelOptions(options.WriteBackQueue) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _writer = Task.Run(WriteAllAsync);
    }

    /// <summary>Where this node's filters are coherent to (null: it tails no stream yet, and T2 is not used).</summary>
    public AppliedCursor Position { get; }

    /// <summary>The tier's series.</summary>
    public SnapshotTierMetrics Metrics { get; }

    /// <summary>Longest a miss waits for a load.</summary>
    public TimeSpan LoadTimeout => _options.LoadTimeout;

    /// <summary>Longest a load runs (GET, catch-up, install): CatchUpTimeout, at least LoadTimeout.</summary>
    public TimeSpan CatchUpTimeout => _options.CatchUpTimeout > _options.LoadTimeout ? _options.CatchUpTimeout : _options.LoadTimeout;

    /// <summary>Rows from which a database rebuild is also written back.</summary>
    public long WriteBackMinRows => _options.WriteBackMinRows;

    /// <summary>The tier's settings.</summary>
    public SnapshotTierOptions Options => _options;

    /// <summary>Write-backs queued and not yet written.</summary>
    public int QueuedWriteBacks => _queue.Reader.Count;

    /// <summary>
    /// Queues a write-back of <paramref name="filter"/>, which holds every change of the stream up to
    /// <paramref name="cursor"/> (read before the filter stopped receiving changes); false, counted, when the queue
    /// is full or the cursor cannot be stamped. Never blocks: it runs under the table's or the rebuild's lock.
    /// </summary>
    public bool TryQueueWriteBack(ulong userId, UserFilter filter, StreamCursor cursor)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var stamp = new byte[FilterSnapshotHeader.StampSize];
        if (!TryEncodeStamp(cursor, stamp) || !_queue.Writer.TryWrite(new WriteBack(userId, filter, stamp)))
        {
            Metrics.WriteBackDropped();
            return false;
        }

        return true;
    }

    /// <summary>
    /// Loads the user's snapshot and brings it up to date from the stream, all before <paramref name="deadline"/>;
    /// null when there is none, it is stale (then deleted), Redis failed or the deadline passed (each counted), or
    /// <paramref name="rebuild"/> was abandoned meanwhile. Changes arriving meanwhile are <paramref name="rebuild"/>'s
    /// to buffer: this reads the stream until it finds nothing newer, which covers every entry read by the tailer
    /// before the rebuild was registered.
    /// </summary>
    public async Task<UserFilter?> LoadAsync(UserRebuild rebuild, BloomFilterOptions filterOptions, CancellationToken deadline)
    {
        ArgumentNullException.ThrowIfNull(rebuild);
        var userId = rebuild.UserId;
        try
        {
            var bytes = await _store.GetAsync(userId).WaitAsync(deadline).ConfigureAwait(false);
            if (bytes is null)
            {
                Metrics.Miss();
                return null;
            }

            Metrics.Loaded(bytes.Length);
            UserFilter filter;
            StreamCursor cursor;
            try
            {
                var stamp = new byte[FilterSnapshotHeader.StampSize];
                filter = UserFilter.ReadSnapshot(bytes, filterOptions, stamp);
                cursor = DecodeStamp(stamp);
            }
            catch (FilterSnapshotException e)
            {
                return await DropStaleAsync(userId, "corrupt: " + e.Message).ConfigureAwait(false);
            }

            if (cursor.Epoch == 0)
            {
                return await DropStaleAsync(userId, "no epoch").ConfigureAwait(false);
            }

            while (!rebuild.IsAbandoned)
            {
                var updates = await _store.ReadChangesAsync(cursor).WaitAsync(deadline).ConfigureAwait(false);
                if (updates.Count == 0)
                {
                    return filter;
                }

                foreach (var update in updates)
                {
                    if (update.IsGap)
                    {
                        return await DropStaleAsync(userId, update.GapReason!).ConfigureAwait(false);
                    }

                    var batch = update.Batch!;
                    for (var i = 0; i < batch.Count; i++)
                    {
                        var change = batch[i];
                        if (change.UserId != userId)
                        {
                            continue;
                        }

                        if (change.Kind != StreamChangeKind.Upsert)
                        {
                            return await DropStaleAsync(userId, "the user was deleted").ConfigureAwait(false);
                        }

                        filter.Add(change.ContentType, change.ContentId);
                    }

                    cursor = update.Cursor;
                }
            }

            return null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException || (e is OperationCanceledException && deadline.IsCancellationRequested))
        {
            Metrics.LoadError();
            Log.SnapshotTierFailed(_logger, e, _pool, "load");
            return null;
        }
    }

    /// <summary>Deletes the user's snapshot, waiting at most LoadTimeout; a failure is counted and logged, never thrown.</summary>
    public async Task DeleteAsync(ulong userId)
    {
        try
        {
            await _store.DeleteAsync(userId).WaitAsync(_options.LoadTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Safe to go on: a snapshot left behind meets the user's delete in the stream when loaded (or is stale).
            Metrics.DeleteError();
            Log.SnapshotTierFailed(_logger, e, _pool, "delete");
        }
    }

    /// <summary>Stops taking write-backs and lets the writer finish the queued ones for up to LoadTimeout.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _writer.WaitAsync(_options.LoadTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Write-backs still queued are lost: T2 is a cache.
        }
    }

    /// <summary>Encodes a cursor as a snapshot stamp; false when it does not fit (see the remarks).</summary>
    internal static bool TryEncodeStamp(StreamCursor cursor, Span<byte> stamp)
    {
        var (ms, seq) = StreamCursor.ParseId(cursor.EntryId);
        if (cursor.Epoch == 0 || ms >= 1UL << 48 || seq > ushort.MaxValue)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(stamp, cursor.Epoch);
        BinaryPrimitives.WriteUInt64LittleEndian(stamp[8..], (ms << 16) | seq);
        return true;
    }

    /// <summary>Decodes a stamp written by <see cref="TryEncodeStamp"/>.</summary>
    internal static StreamCursor DecodeStamp(ReadOnlySpan<byte> stamp)
    {
        var epoch = BinaryPrimitives.ReadUInt64LittleEndian(stamp);
        var packed = BinaryPrimitives.ReadUInt64LittleEndian(stamp[8..]);
        return new StreamCursor(epoch, (packed >> 16).ToString(CultureInfo.InvariantCulture) + "-" + (packed & ushort.MaxValue).ToString(CultureInfo.InvariantCulture));
    }

    private async Task<UserFilter?> DropStaleAsync(ulong userId, string reason)
    {
        Metrics.StaleSnapshot();
        Log.SnapshotStale(_logger, _pool, reason);
        await DeleteAsync(userId).ConfigureAwait(false);
        return null;
    }

    private async Task WriteAllAsync()
    {
        await foreach (var item in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                Metrics.WriteBack(await StoreAsync(item.UserId, item.Filter, item.Stamp, Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false));
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Metrics.WriteBackError();
                Log.SnapshotTierFailed(_logger, e, _pool, "write-back");
            }
        }
    }

    /// <summary>One snapshot to Redis: <paramref name="filter"/> in the snapshot format with <paramref name="stamp"/>, under the tier's Ttl; its bytes.</summary>
    private async Task<int> StoreAsync(ulong userId, UserFilter filter, byte[] stamp, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(filter.SnapshotLength, int.MaxValue));
        filter.WriteSnapshot(buffer, stamp);
        await _store.SetAsync(userId, buffer.WrittenMemory, _options.Ttl).WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        return buffer.WrittenCount;
    }

    private sealed record WriteBack(ulong UserId, UserFilter Filter, byte[] Stamp);
}
