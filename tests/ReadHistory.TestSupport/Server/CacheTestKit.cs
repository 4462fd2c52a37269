using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;

namespace ReadHistory.TestSupport.Server;

/// <summary>Builders and waits shared by the cache tests; every wait has the default timeout, so no test hangs.</summary>
internal static class CacheTestKit
{
    /// <summary>A node over <paramref name="source"/> with test-sized defaults.</summary>
    public static ReadThroughCache NewNode(IHistorySource source, CacheOptions? options = null, Prometheus.CollectorRegistry? metrics = null) =>
        new(options ?? Options(), source, TimeProvider.System, NullLogger.Instance, metrics);

    /// <summary>A warm starter into <paramref name="receiver"/> with test-sized chunks and window.</summary>
    internal static WarmStarter NewStarter(ReadThroughCache receiver, int chunkBytes = SnapshotSender.DefaultChunkBytes, TimeSpan? timeout = null) =>
        new(receiver, new WarmStartOptions { ChunkBytes = chunkBytes, Timeout = timeout ?? TestTimeout.Default, WindowBytes = 1 << 20 }, TimeProvider.System, NullLogger.Instance);

    /// <summary>Options with a small budget and fast retries.</summary>
    public static CacheOptions Options(long budgetBytes = 1 << 20, BloomFilterOptions? filter = null, int rebuildConcurrency = 2) => new()
    {
        Pool = "test",
        BudgetBytes = budgetBytes,
        Filter = filter ?? BloomFilterOptions.Default,
        RebuildConcurrency = rebuildConcurrency,
        RebuildRowsPerSecond = 500_000,
        RebuildMaxAttempts = 5,
        RebuildRetryDelay = TimeSpan.FromMilliseconds(1),
        MaxBufferedChangesPerUser = 100_000,
    };

    /// <summary>Waits until no rebuild is in flight.</summary>
    public static Task WaitForRebuildsAsync(ReadThroughCache node) => Poll.UntilAsync(() => node.RebuildsInFlight == 0, "rebuilds to finish");

    /// <summary>Checks ids through the node and returns the bitmap and the result.</summary>
    public static async Task<(byte[] Bitmap, CheckResult Result)> CheckAsync(ReadThroughCache node, ulong userId, ushort type, params ulong[] ids)
    {
        var bitmap = new byte[(ids.Length + 7) / 8];
        var result = await node.CheckAsync(userId, type, ids, bitmap, passthrough: false, CancellationToken.None).AsTask().DefaultTimeout();
        return (bitmap, result);
    }

    /// <summary>Whether bit <paramref name="i"/> of a read bitmap is set.</summary>
    public static bool IsSet(byte[] bitmap, int i) => (bitmap[i / 8] & (1 << (i % 8))) != 0;

    /// <summary>MarkRead of ids through the node.</summary>
    public static Task MarkReadAsync(ReadThroughCache node, ulong userId, ushort type, params ulong[] ids)
    {
        var items = ids.Select(static id => new StoredRead(id, 0)).ToArray();
        return node.MarkReadAsync(userId, type, items, passthrough: false, CancellationToken.None).DefaultTimeout();
    }
}
