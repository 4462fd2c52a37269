using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Core.Filters;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Server.Cache;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// The cache node's hit path: user lookup (dictionary + CLOCK bit), 400-id batch check, metrics; and the write-through
/// bit set of one stream change. The filter check alone is in Filters/FilterCheckBenchmarks; the difference is the
/// cache's own overhead.
/// </summary>
public class CacheLookupBenchmarks
{
    private const int BatchSize = 400;
    private const int ItemsPerUser = 1_000;

    private readonly byte[] _bitmap = new byte[(BatchSize + 7) / 8];
    private ReadThroughCache _node = null!;
    private ulong[][] _batches = [];
    private int _call;

    /// <summary>Users held by the pool (all of them fit the budget).</summary>
    [Params(1_000, 100_000)]
    public int Users { get; set; }

    /// <summary>Fills the pool with one rebuilt filter per user and prepares request batches.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var filter = new BloomFilterOptions { Seed = 7 };
        _node = new ReadThroughCache(ShippedDefaults.Cache("bench", 64L << 30, filter), new NoDatabaseSource(), TimeProvider.System, NullLogger.Instance);
        var random = new Random(42);
        for (var user = 1; user <= Users; user++)
        {
            var rows = Enumerable.Range(0, ItemsPerUser).Select(_ => new ContentKey(1, (ulong)random.NextInt64(1, long.MaxValue)));
            _node.Filters.Install((ulong)user, UserFilter.Rebuild(ItemsPerUser, rows, filter));
        }

        _batches = Enumerable.Range(0, 64)
            .Select(_ => Enumerable.Range(0, BatchSize).Select(_ => (ulong)random.NextInt64(1, long.MaxValue)).ToArray())
            .ToArray();
    }

    /// <summary>Stops the node.</summary>
    [GlobalCleanup]
    public void Cleanup() => _node.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One Check of 400 ids for a held user (a different user each call, scattered).</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int CheckHit()
    {
        var call = _call++;
        var user = (ulong)((call * 7919L % Users) + 1);
        var pending = _node.CheckAsync(user, 1, _batches[call & 63], _bitmap, passthrough: false, CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result.UnreadCount : throw new InvalidOperationException("a hit completes synchronously");
    }

    /// <summary>One insert from the coherence stream for a held user.</summary>
    /// <remarks>Ids cycle over 1,024 values, so each user grows by at most one layer however long the run: an unbounded id
    /// sequence would measure layer allocation and capping instead of the insert.</remarks>
    [Benchmark]
    public void ApplyInsert()
    {
        var call = _call++;
        _node.ApplyChange((ulong)((call * 7919L % Users) + 1), 1, (ulong)(call & 1023) + 1, ChangeKind.Insert);
    }
}
