using BenchmarkDotNet.Attributes;
using ReadHistory.Core.Filters;

namespace ReadHistory.Benchmarks.Filters;

/// <summary>
/// Insert cost: atomic adds into a fresh filter sized for them, and a rebuild from rows. One invocation inserts
/// all <see cref="Items"/> ids; bench/RESULTS.md divides the mean by Items for ns/item.
/// </summary>
public class FilterInsertBenchmarks
{
    private readonly BloomFilterOptions _options = new() { Seed = 7 };
    private ulong[] _ids = [];
    private ContentKey[] _rows = [];

    /// <summary>Items added per invocation (the filter is sized for them).</summary>
    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int Items { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _ids = Enumerable.Range(0, Items).Select(_ => (ulong)random.NextInt64()).ToArray();
        _rows = _ids.Select(id => new ContentKey(1, id)).ToArray();
        UserFilter.Create(Items, _options); // the options' layer plan, outside the measurement
    }

    /// <summary>Create, then Add one id at a time (writer lock + plain stores), as MarkRead and the change stream do.</summary>
    [Benchmark]
    public long AddEach()
    {
        var filter = UserFilter.Create(Items, _options);
        foreach (var id in _ids)
        {
            filter.Add(1, id);
        }

        return filter.Count;
    }

    /// <summary>Rebuild from a span of rows (plain stores: the filter is not shared yet).</summary>
    [Benchmark]
    public long Rebuild() => UserFilter.Rebuild(_rows, _options).Count;
}
