using ReadHistory.Core.Routing;
using ReadHistory.LoadGen.Model;
using StackExchange.Redis;

namespace ReadHistory.LoadGen.Targets;

/// <summary>
/// Redis bit-array Bloom filters, one key per user (the design RBase started from): sized per user from its history
/// (plus headroom for writes) at the target rate; writes are pipelined SETBITs; a check is one EVAL that runs the
/// GETBITs of all candidates server-side and stops at a candidate's first zero bit (400 × k pipelined GETBITs from
/// this client would measure the client, not Redis).
/// </summary>
internal sealed class RedisBloomTarget(TargetOptions options, WorkloadModel model) : RedisPeer(options, model, 2)
{
    private const string Prefix = "rb:";
    private const string ProbeScript = """
        local k = tonumber(ARGV[1])
        local n = (#ARGV - 1) / k
        local r = {}
        for i = 0, n - 1 do
          local hit = 1
          for j = 2, k + 1 do
            if redis.call('GETBIT', KEYS[1], ARGV[i * k + j]) == 0 then hit = 0; break end
          end
          r[i + 1] = hit
        end
        return r
        """;

    /// <inheritdoc />
    public override string Name => "redis-bloom";

    /// <summary>Bits and probes of a user with <paramref name="rows"/> rows at rate <paramref name="rate"/>.</summary>
    internal static (long Bits, int Probes) Size(long rows, double rate)
    {
        var capacity = Math.Max(rows + (rows / 4), rows + 256);
        var bits = (long)Math.Ceiling(-capacity * Math.Log(rate) / (Math.Log(2) * Math.Log(2)));
        bits = (bits + 7) & ~7L;
        var probes = Math.Clamp((int)Math.Round((double)bits / capacity * Math.Log(2)), 1, 16);
        return (bits, probes);
    }

    /// <summary>Bit offset of probe <paramref name="j"/> of <paramref name="id"/> in an array of <paramref name="bits"/>.</summary>
    internal static long Offset(ulong id, int j, long bits)
    {
        var h = Mix64.Combine(0xb100_f11eUL, id);
        var h1 = h & 0xffff_ffffUL;
        var h2 = (h >> 32) | 1UL;
        return (long)((h1 + ((ulong)j * h2)) % (ulong)bits);
    }

    /// <inheritdoc />
    public override async Task CheckAsync(CheckCall call, CancellationToken cancellationToken)
    {
        var (bits, k) = Size(Model.HistorySize(Model.RankOf(call.UserId)), Options.BloomFalsePositiveRate);
        var args = new RedisValue[1 + (call.Ids.Length * k)];
        args[0] = k;
        for (var i = 0; i < call.Ids.Length; i++)
        {
            for (var j = 0; j < k; j++)
            {
                args[1 + (i * k) + j] = Offset(call.Ids[i], j, bits);
            }
        }

        var result = (RedisResult[])(await Database.ScriptEvaluateAsync(ProbeScript, [KeyOf(Prefix, call.UserId)], args).ConfigureAwait(false))!;
        for (var i = 0; i < result.Length; i++)
        {
            call.Read[i] = (long)result[i] != 0;
        }
    }

    /// <inheritdoc />
    public override async Task MarkReadAsync(ulong userId, string sessionId, ulong[] ids, CancellationToken cancellationToken)
    {
        var (bits, k) = Size(Model.HistorySize(Model.RankOf(userId)), Options.BloomFalsePositiveRate);
        var key = KeyOf(Prefix, userId);
        var batch = Database.CreateBatch();
        var sets = new Task[ids.Length * k];
        for (var i = 0; i < ids.Length; i++)
        {
            for (var j = 0; j < k; j++)
            {
                sets[(i * k) + j] = batch.StringSetBitAsync(key, Offset(ids[i], j, bits), true);
            }
        }

        batch.Execute();
        await Task.WhenAll(sets).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        var pending = new List<Task>(128);
        for (var rank = 0; rank < Model.Options.Users; rank++)
        {
            var user = Model.UserId(rank);
            var size = Model.HistorySize(rank);
            var (bits, k) = Size(size, Options.BloomFalsePositiveRate);
            var array = new byte[bits / 8];
            for (var i = 0; i < size; i++)
            {
                var id = Model.ReadId(user, i);
                for (var j = 0; j < k; j++)
                {
                    var offset = Offset(id, j, bits);
                    array[offset >> 3] |= (byte)(0x80 >> (int)(offset & 7)); // Redis bit 0 is the high bit of byte 0
                }
            }

            pending.Add(Database.StringSetAsync(KeyOf(Prefix, user), array));
            RowsLoaded += size;
            if (pending.Count == 128)
            {
                await Task.WhenAll(pending).ConfigureAwait(false);
                pending.Clear();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }
}
