using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// Reads one slot stream for a cache replica: batches after a cursor, and gaps when continuity cannot be proven —
/// the epoch changed or vanished (new publisher epoch, Redis lost its data), the stream was trimmed past the
/// cursor (the replica fell more than StreamMaxLength entries behind), the entry at the cursor is gone from a stream
/// that was not trimmed past it (a Redis Cluster failover promoted a replica that had not received the stream's tail,
/// whose next entries may then carry ids below the cursor), or an entry is corrupt. Each read is one script over the
/// slot's stream and state hash (one hash slot, see <see cref="CdcKeys"/>) reading the epoch, the stream's first and
/// last ids, how many entries were ever trimmed, and up to ReadCount entries: they must come from one moment (a trim
/// between reading the first id and the entries would lose entries without a gap), and the script returns the ids
/// without their entries, which native calls in a MULTI could not.
/// A cursor at "0-0" (a replica that started on an empty stream) is trimmed past as soon as any entry was trimmed:
/// XINFO STREAM's entries-added (Redis 7.0 and later) exceeds the stream's length.
/// While tailing, a read that finds nothing waits on a blocking XREAD (BLOCK ReadPollInterval) on a connection of
/// its own, then reads again: a new entry is read as soon as it lands, and an epoch change on an idle stream is still
/// seen within ReadPollInterval; the shared connection is never held by the BLOCK.
/// </summary>
internal sealed class ChangeStreamReader
{
    // KEYS: stream, state. ARGV: cursor id, count. Returns {epoch|nil, first id|nil, last id|nil, entries, trimmed,
    // missing}: trimmed = entries ever added less those still in the stream (-1: the server does not count them, before
    // 7.0); missing = 1 when the cursor is not "0-0" and its own entry is not in the stream (the range is read from
    // the cursor inclusive, and the cursor's entry dropped from the reply).
    // XINFO STREAM fails on a missing key, hence the EXISTS; it brings the first and last entries along, so no XRANGE
    // for them. Trimming (XADD MAXLEN, XTRIM) leaves max-deleted-entry-id alone (only XDEL moves it), so it cannot tell.
    private const string ReadScript = """
        local epoch = redis.call('HGET', KEYS[2], 'epoch')
        if redis.call('EXISTS', KEYS[1]) == 0 then
            return {epoch, false, false, {}, 0, ARGV[1] ~= '0-0' and 1 or 0}
        end
        local info = redis.call('XINFO', 'STREAM', KEYS[1])
        local fields = {}
        for i = 1, #info, 2 do
            fields[info[i]] = info[i + 1]
        end
        local first = fields['first-entry']
        local last = fields['last-entry']
        local trimmed = -1
        if fields['entries-added'] then
            trimmed = fields['entries-added'] - fields['length']
        end
        local entries
        local missing = 0
        if ARGV[1] == '0-0' then
            entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[2])
        else
            entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]) + 1)
            if #entries > 0 and entries[1][1] == ARGV[1] then
                table.remove(entries, 1)
            else
                missing = 1
            end
        end
        return {epoch, first and first[1] or false, last and last[1] or false, entries, trimmed, missing}
        """;

    private readonly IDatabase _database;
    private readonly IDatabase? _blocking;
    private readonly CdcOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _stateKey;

    /// <summary>
    /// Creates a reader of slot <paramref name="slot"/> of pool <paramref name="pool"/> over the shared
    /// <paramref name="connection"/>; <paramref name="blockingConnection"/> is a connection nothing else waits on, for
    /// the tail's blocking XREAD (null: the tail polls, pausing up to ReadPollInterval).
    /// </summary>
    public ChangeStreamReader(
        IConnectionMultiplexer connection, IConnectionMultiplexer? blockingConnection, RedisOptions redis, CdcOptions options, string pool, int slot, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(redis);
        var keys = new CdcKeys(redis.KeyPrefix);
        _database = connection.GetDatabase();
        _blocking = blockingConnection is null || ReferenceEquals(blockingConnection, connection) ? null : blockingConnection.GetDatabase();
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        var slotKeys = keys.Slot(pool, slot);
        _stateKey = slotKeys.State;
        StreamKey = slotKeys.Stream;
    }

    /// <summary>The stream key read.</summary>
    public string StreamKey { get; }

    /// <summary>The cursor at the stream's end now: for a replica that holds nothing yet (a cold start).</summary>
    /// <remarks>
    /// Two native reads, the last id first: an epoch that changes between them pairs the new epoch with an id of the old
    /// one, which is still a sound place to tail the new epoch from (its entries all come later); the other order could
    /// pair the old epoch with a new entry, which the next read would report as a gap. Once per start, so the last
    /// entry's payload that XREVRANGE brings along costs nothing that matters.
    /// </remarks>
    public async Task<StreamCursor> GetTailCursorAsync()
    {
        var last = await _database.StreamRangeAsync(StreamKey, "-", "+", 1, Order.Descending).ConfigureAwait(false);
        var epoch = await _database.HashGetAsync(_stateKey, SlotKeys.EpochField).ConfigureAwait(false);
        return new StreamCursor(CdcKeys.ParseEpoch(epoch), last.Length == 0 ? StreamCursor.Beginning : (string)last[0].Id!);
    }

    /// <summary>One round trip: the updates after <paramref name="cursor"/> (empty when there is nothing new).</summary>
    public async Task<IReadOnlyList<StreamUpdate>> ReadAsync(StreamCursor cursor)
    {
        var state = await ReadStateAsync(cursor.EntryId).ConfigureAwait(false);
        var tail = new StreamCursor(state.Epoch, state.LastId ?? StreamCursor.Beginning);
        if (state.Epoch != cursor.Epoch)
        {
            return [Gap(tail, state.Epoch == 0 ? "no epoch in Redis: it lost its data" : "the epoch changed")];
        }

        if (TrimmedPast(cursor.EntryId, state.FirstId, state.Trimmed))
        {
            return [Gap(tail, "the stream was trimmed past the cursor")];
        }

        if (state.CursorMissing)
        {
            return [Gap(tail, "the entry at the cursor is gone (a failover lost the stream's tail)")];
        }

        if (state.Entries.Length == 0)
        {
            return [];
        }

        var updates = new List<StreamUpdate>(state.Entries.Length);
        foreach (var entry in state.Entries)
        {
            var parts = (RedisResult[])entry!;
            var id = (string)parts[0]!;
            var position = new StreamCursor(cursor.Epoch, id);
            ChangeBatch batch;
            try
            {
                batch = ChangeBatch.Parse(DataField((RedisResult[])parts[1]!) ?? throw new ChangeBatchException("the entry has no 'data' field"));
            }
            catch (ChangeBatchException e)
            {
                Log.CorruptEntry(_logger, e, StreamKey, id);
                updates.Add(Gap(position, "corrupt entry " + id));
                continue;
            }

            if (batch.Epoch != cursor.Epoch)
            {
                // Left over from an earlier epoch (the stream survived an epoch change): not ours to apply.
                updates.Add(StreamUpdate.ForBatch(position, EmptyBatch(batch)));
                continue;
            }

            updates.Add(StreamUpdate.ForBatch(position, batch));
        }

        return updates;
    }

    /// <summary>
    /// Tails the stream from <paramref name="cursor"/> until cancelled: yields updates as they come; when a read finds
    /// nothing it waits for the next entry (blocking XREAD on the dedicated connection, or polling with a pause that
    /// grows from 1 ms to ReadPollInterval without one); Redis errors are retried after ReadPollInterval.
    /// </summary>
    public async IAsyncEnumerable<StreamUpdate> TailAsync(StreamCursor cursor, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromMilliseconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            IReadOnlyList<StreamUpdate> updates;
            var failed = false;
            try
            {
                updates = await ReadAsync(cursor).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                updates = [];
                failed = true;
                pause = _options.ReadPollInterval;
            }

            foreach (var update in updates)
            {
                cursor = update.Cursor;
                yield return update;
            }

            if (updates.Count > 0)
            {
                pause = TimeSpan.FromMilliseconds(1);
                continue;
            }

            if (!failed && _blocking is not null && await WaitForEntryAsync(cursor, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, _options.ReadPollInterval.Ticks));
        }
    }

    /// <summary>
    /// Waits up to ReadPollInterval for an entry after <paramref name="cursor"/>: XREAD COUNT 1 BLOCK on the dedicated
    /// connection (its async timeout is the shared one plus ReadPollInterval, so the BLOCK always ends first). Only a
    /// wake-up: the entries are then read with the epoch and the stream's bounds by <see cref="ReadAsync"/>. False when
    /// Redis failed (the caller pauses before it reads again).
    /// </summary>
    private async Task<bool> WaitForEntryAsync(StreamCursor cursor, CancellationToken cancellationToken)
    {
        var block = (long)Math.Max(1, Math.Ceiling(_options.ReadPollInterval.TotalMilliseconds));
        try
        {
            await _blocking!.ExecuteAsync("XREAD", "COUNT", 1, "BLOCK", block, "STREAMS", (RedisKey)StreamKey, cursor.EntryId).WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether entries after <paramref name="cursorId"/> were trimmed away: the stream's first entry is newer than the
    /// cursor, and, for a cursor at "0-0", any entry was ever trimmed (<paramref name="trimmed"/> &gt; 0; a stream
    /// whose first entry is the first ever written missed nothing). A server that does not count its entries
    /// (<paramref name="trimmed"/> &lt; 0) makes "0-0" a gap as soon as the stream has entries: a needless rebuild
    /// is better than a silent gap.
    /// </summary>
    internal static bool TrimmedPast(string cursorId, string? firstId, long trimmed)
    {
        if (cursorId == StreamCursor.Beginning)
        {
            return trimmed > 0 || (trimmed < 0 && firstId is not null);
        }

        return firstId is not null && StreamCursor.CompareIds(firstId, cursorId) > 0;
    }

    private StreamUpdate Gap(StreamCursor cursor, string reason)
    {
        Log.StreamGap(_logger, StreamKey, reason, cursor.Epoch);
        return StreamUpdate.ForGap(cursor, reason);
    }

    private static ChangeBatch EmptyBatch(ChangeBatch stale) =>
        ChangeBatch.Parse(ChangeBatch.CreateFromEncoded(stale.Epoch, stale.CommitTimeMs, stale.SourcePosition, []));

    private static byte[]? DataField(RedisResult[] fields)
    {
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            if ((string)fields[i]! == "data")
            {
                return (byte[])fields[i + 1]!;
            }
        }

        return null;
    }

    private async Task<(ulong Epoch, string? FirstId, string? LastId, RedisResult[] Entries, long Trimmed, bool CursorMissing)> ReadStateAsync(string after)
    {
        var result = (RedisResult[])(await _database.ScriptEvaluateAsync(ReadScript, [StreamKey, _stateKey], [after, _options.ReadCount]).ConfigureAwait(false))!;
        var entries = (RedisResult[])result[3]!;
        return (CdcKeys.ParseEpoch((string?)result[0]), result[1].IsNull ? null : (string?)result[1], result[2].IsNull ? null : (string?)result[2], entries, (long)result[4], (long)result[5] == 1);
    }
}
