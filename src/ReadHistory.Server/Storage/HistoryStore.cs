using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using Polly;

namespace ReadHistory.Server.Storage;

/// <summary>
/// Reads and deletes history: the blocking point query of a cache miss (point pool), the streaming rebuild scan and
/// its count (scan pool), and forget (ingest pool, as it writes). Writes go through <see cref="GroupCommitWriter"/>.
/// </summary>
internal sealed class HistoryStore(HistoryDatabase database, ILogger logger, StorageMetrics? metrics = null, TimeProvider? time = null)
{
    /// <summary>Most ids one point query accepts (the API allows 10,000).</summary>
    public const int MaxIdsPerQuery = 100_000;

    /// <summary>Rows one DELETE of forget removes, so no transaction grows with the user.</summary>
    public const int ForgetChunkRows = 10_000;

    private static readonly int[] SmallSlots = [1, 8, 32, 128];
    private readonly StorageMetrics _metrics = metrics ?? StorageMetrics.Shared;
    private readonly ConcurrentDictionary<string, string[]> _pointStatements = new(StringComparer.Ordinal);
    private readonly int[] _slots = SlotLadder(database.Options.PointQueryChunk);
    private readonly ResiliencePipeline _forgetRetry = StorageRetry.Build(database.Options, time ?? TimeProvider.System, args =>
    {
        Log.ForgetRetrying(logger, args.Outcome.Exception, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
        return ValueTask.CompletedTask;
    });
    private int _preparedTooMany;

    /// <summary>The schema this store reads.</summary>
    public HistoryDatabase Database => database;

    /// <summary>
    /// Point query as a read bitmap: sets bit i (LSB-first) of <paramref name="readBitmap"/> for every id of
    /// <paramref name="ids"/> the user has read, clears the others, and returns how many were read.
    /// </summary>
    public Task<int> ReadBitmapAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> ids, Memory<byte> readBitmap, CancellationToken cancellationToken = default) =>
        ReadBitmapAsync(userId, contentType, ids, readBitmap, StoragePool.Point, cancellationToken);

    /// <summary>The read-bitmap point query on <paramref name="pool"/> (see <see cref="ContainsAsync(ulong, ushort, ReadOnlyMemory{ulong}, Memory{bool}, StoragePool, CancellationToken)"/>).</summary>
    public async Task<int> ReadBitmapAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> ids, Memory<byte> readBitmap, StoragePool pool, CancellationToken cancellationToken = default)
    {
        var count = ids.Length;
        var found = ArrayPool<bool>.Shared.Rent(count);
        try
        {
            var read = await ContainsAsync(userId, contentType, ids, found.AsMemory(0, count), pool, cancellationToken).ConfigureAwait(false);
            var bitmap = readBitmap.Span[..((count + 7) / 8)];
            bitmap.Clear();
            for (var i = 0; i < count; i++)
            {
                if (found[i])
                {
                    bitmap[i >> 3] |= (byte)(1 << (i & 7));
                }
            }

            return read;
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(found);
        }
    }

    /// <summary>
    /// Which of <paramref name="ids"/> the user has read with this type: sets <c>found[i]</c> for each stored
    /// <c>ids[i]</c> (duplicates included) and clears the others; returns how many were set. The ids go in chunks of
    /// <see cref="DatabaseOptions.PointQueryChunk"/> through prepared statements with a fixed ladder of slot
    /// counts (<see cref="PointQuerySlots"/>), all on one connection of the point pool, whose sessions keep their
    /// statements between rentals.
    /// </summary>
    public Task<int> ContainsAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> ids, Memory<bool> found, CancellationToken cancellationToken = default) =>
        ContainsAsync(userId, contentType, ids, found, StoragePool.Point, cancellationToken);

    /// <summary>
    /// <see cref="ContainsAsync(ulong, ushort, ReadOnlyMemory{ulong}, Memory{bool}, CancellationToken)"/> on a pool of
    /// the caller's choice: <see cref="StoragePool.Scan"/> for work that must not take a point-query connection (the
    /// false-positive verifier, explanations); prepared statements only on the point pool, text IN lists elsewhere.
    /// </summary>
    public async Task<int> ContainsAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> ids, Memory<bool> found, StoragePool pool, CancellationToken cancellationToken = default)
    {
        CheckUser(userId);
        if (found.Length != ids.Length)
        {
            throw new ArgumentException($"found has {found.Length} slots for {ids.Length} ids", nameof(found));
        }

        if (ids.Length > MaxIdsPerQuery)
        {
            throw new ArgumentOutOfRangeException(nameof(ids), $"{ids.Length} ids exceed {MaxIdsPerQuery}");
        }

        found.Span.Clear();
        if (ids.IsEmpty)
        {
            return 0;
        }

        _metrics.PointQueries.Inc();
        var table = database.TableOf(userId);
        var hits = new HashSet<ulong>();
        await using (var connection = await database.Connections.OpenAsync(pool, cancellationToken).ConfigureAwait(false))
        {
            if (pool == StoragePool.Point && PreparedPointQueries && PreparedFits(_slots.Length, database.Names.Databases * database.Names.TablesPerDatabase) && Volatile.Read(ref _preparedTooMany) == 0)
            {
                await PreparedPointQueryAsync(connection, table, userId, contentType, ids, hits, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await TextPointQueryAsync(connection, table, userId, contentType, ids, hits, cancellationToken).ConfigureAwait(false);
            }
        }

        var count = 0;
        var idSpan = ids.Span;
        var foundSpan = found.Span;
        for (var i = 0; i < idSpan.Length; i++)
        {
            if (hits.Contains(idSpan[i]))
            {
                foundSpan[i] = true;
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Whether point queries run as prepared statements (the default) or as text IN lists of literals (kept only to
    /// compare the two in the storage benchmark).
    /// </summary>
    public bool PreparedPointQueries { get; init; } = true;

    /// <summary>
    /// Most ids one prepared point statement takes. MariaDB turns an IN list of 1,000 or more values
    /// (<c>in_predicate_conversion_threshold</c>) into a subquery over a value table, which with parameters measured
    /// 11 ms P50 for 1,000 ids; 999 slots took 5.9 ms and two 512-slot statements 4.8 ms (bench/RESULTS.md, "Storage").
    /// </summary>
    public const int MaxPreparedSlots = 512;

    /// <summary>
    /// Id slot counts of the prepared point statements: 1, 8, 32, 128 below the chunk, then the chunk itself
    /// (<see cref="DatabaseOptions.PointQueryChunk"/>, at most <see cref="MaxPreparedSlots"/>). A chunk uses
    /// the smallest count that holds it, so a session holds at most five statements per table, whatever the request
    /// sizes.
    /// </summary>
    public IReadOnlyList<int> PointQuerySlots => _slots;

    /// <summary>
    /// Most prepared point statements one point-pool session may hold. MySqlConnector keeps every statement a session
    /// prepared (by text) until the session is reset or closed, and the point pool never resets, so the server holds
    /// up to PointPoolSize × ladder rungs × tables statements per process; the server's max_prepared_stmt_count
    /// (16,382 by default) caps all sessions together. The defaults hold 32 × 5 × 1 = 160. A schema whose ladder ×
    /// tables exceeds this cap sends its point queries as text instead, so a process never holds more than
    /// PointPoolSize × 256 (8,192 at the default pool size); a server that still runs out (error 1461) switches this
    /// store to text queries too.
    /// </summary>
    public const int MaxPreparedPerSession = 256;

    /// <summary>Whether a ladder of <paramref name="rungs"/> statements over <paramref name="tables"/> tables stays within <see cref="MaxPreparedPerSession"/>.</summary>
    internal static bool PreparedFits(int rungs, int tables) => (long)rungs * tables <= MaxPreparedPerSession;

    /// <summary>The slot ladder for a chunk size.</summary>
    internal static int[] SlotLadder(int chunk)
    {
        var top = Math.Min(chunk, MaxPreparedSlots);
        return [.. SmallSlots.Where(n => n < top), top];
    }

    private async Task PreparedPointQueryAsync(MySqlConnection connection, string table, ulong userId, ushort contentType, ReadOnlyMemory<ulong> ids, HashSet<ulong> hits, CancellationToken cancellationToken)
    {
        var slots = _slots;
        var texts = _pointStatements.GetOrAdd(table, static (_, count) => new string[count], slots.Length);
        var chunk = slots[^1];
        for (var start = 0; start < ids.Length; start += chunk)
        {
            var part = ids.Slice(start, Math.Min(chunk, ids.Length - start));
            var rung = 0;
            while (slots[rung] < part.Length)
            {
                rung++;
            }

            var size = slots[rung];
            await using var command = connection.CreateCommand();
            command.CommandText = texts[rung] ??= database.Dialect.PreparedPointQuery(table, size);
            var parameters = command.Parameters;
            parameters.Add(new MySqlParameter { Value = userId });
            parameters.Add(new MySqlParameter { Value = contentType });
            var span = part.Span;
            for (var i = 0; i < size; i++)
            {
                // Unused slots repeat the last id: the IN list's duplicates cost nothing and match nothing new.
                parameters.Add(new MySqlParameter { Value = span[Math.Min(i, span.Length - 1)] });
            }

            // Prepared once per session and text: MySqlConnector finds the session's statement by its text afterwards.
            try
            {
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.MaxPreparedStatementCountReached)
            {
                // The server's max_prepared_stmt_count is shared with other clients: stop preparing, answer as text.
                Volatile.Write(ref _preparedTooMany, 1);
                Log.PreparedStatementsExhausted(logger, e.Message);
                await TextPointQueryAsync(connection, table, userId, contentType, ids[start..], hits, cancellationToken).ConfigureAwait(false);
                return;
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                hits.Add(reader.GetUInt64(0));
            }
        }
    }

    private async Task TextPointQueryAsync(MySqlConnection connection, string table, ulong userId, ushort contentType, ReadOnlyMemory<ulong> ids, HashSet<ulong> hits, CancellationToken cancellationToken)
    {
        var chunk = database.Options.PointQueryChunk;
        for (var start = 0; start < ids.Length; start += chunk)
        {
            var part = ids.Slice(start, Math.Min(chunk, ids.Length - start));
            await using var command = connection.CreateCommand();
            command.CommandText = database.Dialect.PointQuery(table, userId, contentType, part.Span);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                hits.Add(reader.GetUInt64(0));
            }
        }
    }

    /// <summary>Rows of a user (all types); run before a scan to size the filter.</summary>
    public async Task<long> CountAsync(ulong userId, CancellationToken cancellationToken = default)
    {
        CheckUser(userId);
        await using var connection = await OpenScanAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = database.Dialect.Count(database.TableOf(userId), userId);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Every row of a user in primary-key order (type, id), streamed from one unbuffered reader: memory stays one row
    /// whatever the user's size (MySqlConnector reads a result set packet by packet; SequentialAccess declares that
    /// the columns are read in order, which is all this loop does). Stop early by breaking out or cancelling.
    /// </summary>
    public async IAsyncEnumerable<ScannedRow> ScanAsync(ulong userId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        CheckUser(userId);
        long rows = 0;
        try
        {
            await using var connection = await OpenScanAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = database.Dialect.Scan(database.TableOf(userId), userId);
            await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows++;
                yield return new ScannedRow(reader.GetUInt16(0), reader.GetUInt64(1), reader.GetUInt32(2));
            }
        }
        finally
        {
            _metrics.ScanRows.Inc(rows);
        }
    }

    /// <summary>
    /// Deletes every row of a user, in chunks; returns how many were deleted. A transient error (a deadlock, such as
    /// MyRocks's snapshot conflict between two forgets of one user, a lost connection) is retried like a flush
    /// (<see cref="StorageRetry"/>): each chunk is a statement of its own, so a retry goes on from what is committed.
    /// Cancelling stops at the chunk running (its statement is rolled back); the chunks before it stay deleted.
    /// </summary>
    public async Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken = default)
    {
        CheckUser(userId);
        var forget = new ForgetRun(this, userId);
        await _forgetRetry.ExecuteAsync(static (run, token) => new ValueTask(run.DeleteChunksAsync(token)), forget, cancellationToken).ConfigureAwait(false);
        var deleted = forget.Deleted;
        var shard = database.Map.ShardOf(userId);
        Log.Forgot(logger, deleted, shard);
        return deleted;
    }

    private async Task<MySqlConnection> OpenScanAsync(CancellationToken cancellationToken)
    {
        var connection = await database.Connections.OpenAsync(StoragePool.Scan, cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var statement in database.Dialect.ScanSessionSetup)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = statement;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void CheckUser(ulong userId)
    {
        if (userId == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(userId), "user id 0 is not valid");
        }
    }

    /// <summary>One forget across its attempts: the rows deleted so far survive a retry.</summary>
    private sealed class ForgetRun(HistoryStore store, ulong userId)
    {
        private readonly string _sql = store.Database.Dialect.ForgetChunk(store.Database.TableOf(userId), userId, ForgetChunkRows);

        public long Deleted { get; private set; }

        public async Task DeleteChunksAsync(CancellationToken cancellationToken)
        {
            await using var connection = await store.Database.Connections.OpenAsync(StoragePool.Ingest, cancellationToken).ConfigureAwait(false);
            int deleted;
            do
            {
                await using var command = connection.CreateCommand();
                command.CommandText = _sql;
                deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                Deleted += deleted;
            }
            while (deleted >= ForgetChunkRows);
        }
    }
}
