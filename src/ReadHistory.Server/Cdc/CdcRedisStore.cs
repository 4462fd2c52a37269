using System.Globalization;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The publisher's Redis side, shaped for Redis Cluster: no script touches keys of two hash slots (see
/// <see cref="CdcKeys"/>). Taking the lease (INCR + SET) and the fenced checkpoint write run in the <c>{cdc}</c> hash
/// slot; a publish is one script per coherence slot, in that slot's own hash slot, which checks the slot's epoch and
/// fences on the slot itself: the slot keeps the fencing counter of the newest leader that wrote to it and refuses an
/// older one, so a deposed leader stops at the first slot the new leader has touched (and the new leader claims every
/// slot when it starts). The script also counts the slot's publishes ("seq") and refuses to append when the slot holds
/// fewer than the publisher last saw: a failover promoted a replica that had not received the stream's tail.
/// Releasing the lease is a compare-and-delete on the token, which StackExchange.Redis provides as LockRelease.
/// Renewing is a compare-and-expire script rather than its LockExtend: LockExtend is a transaction whose condition
/// reads as "not held" when the server answers an error, and a cluster answers CLUSTERDOWN to every command for a
/// moment while a failed master's replica takes over — the leader would stand down for nothing. The script's error
/// surfaces as an error, which the renewal retries until the lease time has passed.
/// </summary>
internal sealed class CdcRedisStore
{
    /// <summary>Publish result: the caller's lease is gone (a newer leader wrote to the slot).</summary>
    public const long LeaseLost = -1;

    /// <summary>Publish result: the slot's epoch is not the caller's (Redis lost the slot's data).</summary>
    public const long EpochLost = -2;

    /// <summary>Publish result: the slot holds fewer publishes than expected (a failover lost the stream's tail).</summary>
    public const long RolledBack = -3;

    // KEYS: lease, fence. ARGV: ttl ms, nonce. Returns the token, or nil when the lease is held.
    private const string AcquireScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return false end
        local token = redis.call('INCR', KEYS[2]) .. '-' .. ARGV[2]
        redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
        return token
        """;

    // KEYS: lease. ARGV: token, ttl ms. Returns 1, or 0 when the lease is not the caller's.
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    // KEYS: fence. ARGV: at least. Raises the counter so the next token is above a fence a slot holds.
    private const string RaiseFenceScript = """
        if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
        return 0
        """;

    // KEYS: lease, checkpoint. ARGV: token, checkpoint. Returns 1, or 0 when the lease is not the caller's.
    private const string CheckpointScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """;

    // KEYS: state, stream. ARGV: fence, epoch, set-epoch flag, expected seq, maxlen, batch ('' = none).
    // Returns {0, seq after}, {1, the slot's fence} (a newer leader wrote here), {2, 0} (epoch lost) or {3, seq}
    // (rolled back). Setting the epoch appends nothing and skips the seq check: nodes drop everything on a new epoch.
    private const string PublishScript = """
        local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
        local mine = tonumber(ARGV[1])
        if fence > mine then return {1, fence} end
        local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
        if ARGV[3] == '1' then
          redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'fence', ARGV[1], 'seq', seq)
        else
          if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then return {2, 0} end
          if seq < tonumber(ARGV[4]) then return {3, seq} end
          if fence < mine then redis.call('HSET', KEYS[1], 'fence', ARGV[1]) end
        end
        if ARGV[6] ~= '' then
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'data', ARGV[6])
          seq = seq + 1
          redis.call('HSET', KEYS[1], 'seq', seq)
        end
        return {0, seq}
        """;

    private readonly IDatabase _database;
    private readonly string _nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Creates the store over a Redis database.</summary>
    public CdcRedisStore(IDatabase database, CdcKeys keys)
    {
        _database = database ?? throw new ArgumentNullException(nameof(database));
        Keys = keys ?? throw new ArgumentNullException(nameof(keys));
    }

    /// <summary>The keys.</summary>
    public CdcKeys Keys { get; }

    /// <summary>
    /// Takes the lease if nobody holds it; returns the fencing token ("{counter}-{nonce}": the counter orders
    /// leaders, the nonce keeps two tokens apart even if Redis lost the counter), or null.
    /// </summary>
    public async Task<string?> TryAcquireLeaseAsync(TimeSpan ttl)
    {
        var result = await _database.ScriptEvaluateAsync(AcquireScript, [Keys.Lease, Keys.Fence], [(long)ttl.TotalMilliseconds, _nonce]).ConfigureAwait(false);
        return result.IsNull ? null : (string?)result;
    }

    /// <summary>Extends the lease if it still holds <paramref name="token"/>; false when it was lost.</summary>
    public async Task<bool> RenewLeaseAsync(string token, TimeSpan ttl) =>
        (long)await _database.ScriptEvaluateAsync(RenewScript, [Keys.Lease], [token, (long)ttl.TotalMilliseconds]).ConfigureAwait(false) == 1;

    /// <summary>Gives the lease up if it still holds <paramref name="token"/>.</summary>
    public Task ReleaseLeaseAsync(string token) => _database.LockReleaseAsync(Keys.Lease, token);

    /// <summary>The stored checkpoint (null = none, or one this version does not read).</summary>
    public async Task<CdcCheckpoint?> ReadCheckpointAsync() =>
        CdcCheckpoint.Parse(await _database.StringGetAsync(Keys.Checkpoint).ConfigureAwait(false));

    /// <summary>Saves <paramref name="checkpoint"/> if the lease still holds <paramref name="token"/>; false when it was lost.</summary>
    public async Task<bool> WriteCheckpointAsync(string token, CdcCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return (long)await _database.ScriptEvaluateAsync(CheckpointScript, [Keys.Lease, Keys.Checkpoint], [token, checkpoint.Format()]).ConfigureAwait(false) == 1;
    }

    /// <summary>A slot's epoch (0 = none: new, or Redis lost it) and publish count.</summary>
    public async Task<(ulong Epoch, long Seq)> ReadSlotAsync(SlotKeys slot)
    {
        var values = await _database.HashGetAsync(slot.State, [SlotKeys.EpochField, SlotKeys.SeqField]).ConfigureAwait(false);
        return (CdcKeys.ParseEpoch(values[0]), values[1].TryParse(out long seq) ? seq : 0);
    }

    /// <summary>
    /// Appends <paramref name="batch"/> (null: nothing) to the slot's stream, in one script that first checks that no
    /// newer leader than <paramref name="token"/>'s wrote to the slot, that its epoch is <paramref name="epoch"/> (or
    /// sets it when <paramref name="setEpoch"/>) and that it holds at least <paramref name="expectedSeq"/> publishes.
    /// Returns the slot's publish count after, or <see cref="LeaseLost"/> (the fencing counter is then raised above
    /// the slot's, so a later lease draws a token the slot accepts), <see cref="EpochLost"/> or <see cref="RolledBack"/>.
    /// </summary>
    public async Task<long> PublishAsync(string token, SlotKeys slot, ulong epoch, bool setEpoch, long expectedSeq, byte[]? batch, int maxLength)
    {
        var fence = FenceOf(token);
        var result = (RedisResult[])(await _database.ScriptEvaluateAsync(
            PublishScript,
            [slot.State, slot.Stream],
            [fence, CdcKeys.FormatEpoch(epoch), setEpoch ? "1" : "0", expectedSeq, maxLength, batch is null ? RedisValue.EmptyString : (RedisValue)batch]).ConfigureAwait(false))!;
        var value = (long)result[1];
        switch ((long)result[0])
        {
            case 0:
                return value;
            case 1:
                // The counter was lost with a failover of its master, or this token is simply old: either way the next
                // token must be above every fence a slot holds, or no leader could ever publish to this slot again.
                await _database.ScriptEvaluateAsync(RaiseFenceScript, [Keys.Fence], [value]).ConfigureAwait(false);
                return LeaseLost;
            case 2:
                return EpochLost;
            default:
                return RolledBack;
        }
    }

    /// <summary>
    /// Writes, with no lease, an epoch on every slot of <paramref name="slots"/> (dense stream order) and a checkpoint at
    /// <paramref name="position"/> counting no publishes, so the next leader continues that epoch from there: for
    /// benchmarks and tests that replay a known binlog range.
    /// </summary>
    internal async Task SeedAsync(ulong epoch, string position, IReadOnlyList<SlotKeys> slots)
    {
        ArgumentNullException.ThrowIfNull(slots);
        foreach (var slot in slots)
        {
            await _database.HashSetAsync(slot.State, [new(SlotKeys.EpochField, CdcKeys.FormatEpoch(epoch)), new(SlotKeys.SeqField, 0)]).ConfigureAwait(false);
        }

        await _database.StringSetAsync(Keys.Checkpoint, new CdcCheckpoint(position, new long[slots.Count]).Format()).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a Redis failure is worth retrying: a lost or slow connection, and the errors a cluster answers while it
    /// moves a hash slot or fails a master over (StackExchange.Redis follows MOVED and ASK by itself).
    /// </summary>
    public static bool IsTransient(Exception e) =>
        e is RedisConnectionException or TimeoutException
        || (e is RedisServerException server && (server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal) || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal) || server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("MOVED", StringComparison.Ordinal) || server.Message.StartsWith("ASK", StringComparison.Ordinal)));

    /// <summary>The counter of a token "{counter}-{nonce}".</summary>
    internal static long FenceOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var dash = token.IndexOf('-', StringComparison.Ordinal);
        return long.TryParse(dash < 0 ? token : token[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var fence)
            ? fence
            : throw new FormatException($"'{token}' is not a fencing token (counter-nonce)");
    }
}
