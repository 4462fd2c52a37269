using System.Security.Cryptography;
using StackExchange.Redis;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The publisher's Redis side. Two steps must be atomic and have no command of their own, so they stay Lua scripts:
/// taking the lease with a fencing token (INCR and SET together, so tokens order leaders), and the fenced publish
/// (lease check + epoch check + every XADD + checkpoint write: a leader that lost its lease or its epoch writes
/// nothing). Renewing and releasing the lease are compare-and-expire / compare-and-delete on the token, which
/// StackExchange.Redis provides as LockExtend / LockRelease; the state is two plain GETs.
/// Standalone Redis (or one cluster shard): the fenced publish touches keys of several hash slots.
/// </summary>
internal sealed class CdcRedisStore
{
    /// <summary>Publish result: the caller's lease is gone (stolen, expired, or Redis lost it).</summary>
    public const long LeaseLost = -1;

    /// <summary>Publish result: the epoch in Redis is not the caller's (Redis lost its data, or another leader changed it).</summary>
    public const long EpochLost = -2;

    // KEYS: lease, fence. ARGV: ttl ms, nonce. Returns the token, or nil when the lease is held.
    private const string AcquireScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return false end
        local token = redis.call('INCR', KEYS[2]) .. '-' .. ARGV[2]
        redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
        return token
        """;

    // KEYS: lease, epoch, checkpoint, stream 1..n. ARGV: token, epoch, set-epoch flag, checkpoint, maxlen, batch 1..n.
    // Returns the number of entries added, -1 (lease lost) or -2 (epoch lost); nothing is written unless both hold.
    private const string PublishScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        if ARGV[3] == '1' then
          redis.call('SET', KEYS[2], ARGV[2])
        elseif redis.call('GET', KEYS[2]) ~= ARGV[2] then
          return -2
        end
        for i = 4, #KEYS do
          redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[5], '*', 'data', ARGV[i + 2])
        end
        if ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4]) end
        return #KEYS - 3
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
    public Task<bool> RenewLeaseAsync(string token, TimeSpan ttl) => _database.LockExtendAsync(Keys.Lease, token, ttl);

    /// <summary>Gives the lease up if it still holds <paramref name="token"/>.</summary>
    public Task ReleaseLeaseAsync(string token) => _database.LockReleaseAsync(Keys.Lease, token);

    /// <summary>The stored epoch (0 = none) and checkpoint (null = none).</summary>
    public async Task<(ulong Epoch, string? Checkpoint)> ReadStateAsync()
    {
        var values = await _database.StringGetAsync([Keys.Epoch, Keys.Checkpoint]).ConfigureAwait(false);
        return (CdcKeys.ParseEpoch(values[0]), values[1].IsNull ? null : (string?)values[1]);
    }

    /// <summary>
    /// Appends <paramref name="batches"/> to their streams and stores <paramref name="checkpoint"/> ("" = leave it),
    /// in one script that first checks the lease holds <paramref name="token"/> and the epoch is
    /// <paramref name="epoch"/> (or sets it when <paramref name="setEpoch"/>). Returns entries added,
    /// <see cref="LeaseLost"/> or <see cref="EpochLost"/>.
    /// </summary>
    public async Task<long> PublishAsync(
        string token, ulong epoch, bool setEpoch, string checkpoint, IReadOnlyList<(string Stream, byte[] Batch)> batches, int maxLength)
    {
        var keys = new RedisKey[3 + batches.Count];
        var values = new RedisValue[5 + batches.Count];
        keys[0] = Keys.Lease;
        keys[1] = Keys.Epoch;
        keys[2] = Keys.Checkpoint;
        values[0] = token;
        values[1] = CdcKeys.FormatEpoch(epoch);
        values[2] = setEpoch ? "1" : "0";
        values[3] = checkpoint;
        values[4] = maxLength;
        for (var i = 0; i < batches.Count; i++)
        {
            keys[3 + i] = batches[i].Stream;
            values[5 + i] = batches[i].Batch;
        }

        return (long)await _database.ScriptEvaluateAsync(PublishScript, keys, values).ConfigureAwait(false);
    }
}
