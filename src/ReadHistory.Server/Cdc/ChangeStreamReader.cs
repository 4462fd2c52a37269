using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using ReadHistory.Server.Hosting;
using StackExchange.Redis;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// Reads one slot stream for a cache replica: batches after a cursor, and gaps when continuity cannot be proven —
/// the epoch changed or vanished (new publisher epoch, Redis lost its data), the stream was trimmed past the
/// cursor (the replica fell more than StreamMaxLength entries behind), or an entry is corrupt. Each round trip is
/// one script reading the epoch, the stream's first and last ids and up to ReadCount entries, so the three are
/// consistent. It polls (bounded by ReadPollInterval) rather than XREAD BLOCK, which would hold the shared
/// StackExchange.Redis connection for every other caller (measured: a PING waited the full BLOCK time).
/// </summary>
internal sealed class ChangeStreamReader
{
    // KEYS: stream, epoch. ARGV: cursor id, count. Returns {epoch|nil, first id|nil, last id|nil, entries}.
    private const string ReadScript = """
        local epoch = redis.call('GET', KEYS[2])
        local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
        local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
        return {epoch, first[1] and first[1][1] or false, last[1] and last[1][1] or false, entries}
        """;

    private readonly IDatabase _database;
    private readonly CdcOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _epochKey;

    /// <summary>Creates a reader of slot <paramref name="slot"/> of pool <paramref name="pool"/>.</summary>
    public ChangeStreamReader(IConnectionMultiplexer connection, RedisOptions redis, CdcOptions options, string pool, int slot, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(redis);
        var keys = new CdcKeys(redis.KeyPrefix);
        _database = connection.GetDatabase();
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _epochKey = keys.Epoch;
        StreamKey = keys.Stream(pool, slot);
    }

    /// <summary>The stream key read.</summary>
    public string StreamKey { get; }

    /// <summary>The cursor at the stream's end now: for a replica that holds nothing yet (a cold start).</summary>
    public async Task<StreamCursor> GetTailCursorAsync()
    {
        var state = await ReadStateAsync(StreamCursor.Beginning, 0).ConfigureAwait(false);
        return new StreamCursor(state.Epoch, state.LastId ?? StreamCursor.Beginning);
    }

    /// <summary>One round trip: the updates after <paramref name="cursor"/> (empty when there is nothing new).</summary>
    public async Task<IReadOnlyList<StreamUpdate>> ReadAsync(StreamCursor cursor)
    {
        var state = await ReadStateAsync(cursor.EntryId, _options.ReadCount).ConfigureAwait(false);
        var tail = new StreamCursor(state.Epoch, state.LastId ?? StreamCursor.Beginning);
        if (state.Epoch != cursor.Epoch)
        {
            return [Gap(tail, state.Epoch == 0 ? "no epoch in Redis: it lost its data" : "the epoch changed")];
        }

        if (cursor.EntryId != StreamCursor.Beginning && state.FirstId is not null && StreamCursor.CompareIds(state.FirstId, cursor.EntryId) > 0)
        {
            return [Gap(tail, "the stream was trimmed past the cursor")];
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
    /// Tails the stream from <paramref name="cursor"/> until cancelled: yields updates as they come, polling with
    /// a pause that grows from 1 ms to ReadPollInterval while nothing arrives; Redis errors are retried.
    /// </summary>
    public async IAsyncEnumerable<StreamUpdate> TailAsync(StreamCursor cursor, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromMilliseconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            IReadOnlyList<StreamUpdate> updates;
            try
            {
                updates = await ReadAsync(cursor).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                updates = [];
                pause = _options.ReadPollInterval;
            }

            foreach (var update in updates)
            {
                cursor = update.Cursor;
                yield return update;
            }

            if (updates.Count >= _options.ReadCount)
            {
                continue;
            }

            if (updates.Count > 0)
            {
                pause = TimeSpan.FromMilliseconds(1);
                continue;
            }

            await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, _options.ReadPollInterval.Ticks));
        }
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

    private async Task<(ulong Epoch, string? FirstId, string? LastId, RedisResult[] Entries)> ReadStateAsync(string after, int count)
    {
        var result = (RedisResult[])(await _database.ScriptEvaluateAsync(ReadScript, [StreamKey, _epochKey], [after, Math.Max(count, 1)]).ConfigureAwait(false))!;
        var entries = count == 0 ? [] : (RedisResult[])result[3]!;
        return (CdcKeys.ParseEpoch((string?)result[0]), result[1].IsNull ? null : (string?)result[1], result[2].IsNull ? null : (string?)result[2], entries);
    }
}
