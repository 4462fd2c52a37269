using System.Globalization;
using ReadHistory.LoadGen.Model;
using StackExchange.Redis;

namespace ReadHistory.LoadGen.Measure;

/// <summary>
/// What the service's second tier (T2) holds in its Redis after a run: the snapshot keys (<c>{prefix}:t2:{pool:user}:slot</c>
/// in database 0), their bytes (STRLEN) and the preloaded rows of their users, and INFO used_memory against a reading
/// taken before the run.
/// </summary>
internal sealed record SecondTierFootprint(long Keys, long SnapshotBytes, long Rows, long UsedMemoryBefore, long UsedMemoryAfter)
{
    /// <summary>Snapshot bytes per preloaded row of the users in T2.</summary>
    public double SnapshotBytesPerRow => Rows == 0 ? 0 : (double)SnapshotBytes / Rows;

    /// <summary>Redis used_memory growth over the run per preloaded row of the users in T2 (streams included).</summary>
    public double UsedMemoryPerRow => Rows == 0 ? 0 : (double)(UsedMemoryAfter - UsedMemoryBefore) / Rows;

    /// <summary>INFO used_memory of the server now.</summary>
    public static async Task<long> UsedMemoryAsync(string configuration)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(configuration + ",allowAdmin=true").ConfigureAwait(false);
        return UsedMemory(await redis.GetServers()[0].InfoAsync("memory").ConfigureAwait(false));
    }

    /// <summary>Counts the snapshots now; <paramref name="usedMemoryBefore"/> is the reading taken before the run.</summary>
    public static async Task<SecondTierFootprint> MeasureAsync(string configuration, WorkloadModel model, long usedMemoryBefore)
    {
        ArgumentNullException.ThrowIfNull(model);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(configuration + ",allowAdmin=true").ConfigureAwait(false);
        var server = redis.GetServers()[0];
        var database = redis.GetDatabase(0);
        long keys = 0, bytes = 0, rows = 0;
        var lengths = new List<(Task<long> Length, ulong User)>();
        await foreach (var key in server.KeysAsync(0, "*:t2:{*", pageSize: 1000).ConfigureAwait(false))
        {
            var name = (string)key!;
            var open = name.IndexOf(":t2:{", StringComparison.Ordinal) + 5;
            var colon = name.IndexOf(':', open);
            var close = name.IndexOf('}', open);
            if (colon < 0 || close < colon || !ulong.TryParse(name.AsSpan(colon + 1, close - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var user))
            {
                continue;
            }

            lengths.Add((database.StringLengthAsync(key), user));
        }

        foreach (var (length, user) in lengths)
        {
            keys++;
            bytes += await length.ConfigureAwait(false);
            var rank = model.RankOf(user);
            rows += rank >= 0 && rank < model.Options.Users ? model.HistorySize(rank) : 0;
        }

        return new SecondTierFootprint(keys, bytes, rows, usedMemoryBefore, UsedMemory(await server.InfoAsync("memory").ConfigureAwait(false)));
    }

    private static long UsedMemory(IGrouping<string, KeyValuePair<string, string>>[] info) =>
        long.Parse(info.SelectMany(static g => g).First(static p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
}
