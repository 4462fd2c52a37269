using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.Tests.Storage;

/// <summary>Records every batch; can hold flushes on a gate and fail them on demand.</summary>
internal sealed class FakeShardFlusher : IShardFlusher
{
    private readonly Lock _gate = new();
    private int _running;

    public List<(int Shard, HistoryRow[] Rows)> Batches { get; } = [];

    public int Calls;

    public int MaxConcurrent { get; private set; }

    /// <summary>When set, each flush waits for this task first.</summary>
    public Task? Hold { get; set; }

    /// <summary>When set, a flush throws what this returns for its rows (null = succeed).</summary>
    public Func<int, HistoryRow[], int, Exception?>? Fail { get; set; }

    public async Task FlushAsync(int shard, ReadOnlyMemory<HistoryRow> rows, CancellationToken cancellationToken)
    {
        var copy = rows.ToArray();
        var call = Interlocked.Increment(ref Calls);
        lock (_gate)
        {
            _running++;
            MaxConcurrent = Math.Max(MaxConcurrent, _running);
        }

        try
        {
            if (Hold is { } hold)
            {
                await hold.WaitAsync(TestTimeout.Default, cancellationToken);
            }

            if (Fail?.Invoke(shard, copy, call) is { } error)
            {
                throw error;
            }

            lock (_gate)
            {
                Batches.Add((shard, copy));
            }
        }
        finally
        {
            lock (_gate)
            {
                _running--;
            }
        }
    }

    public HistoryRow[] AllRows()
    {
        lock (_gate)
        {
            return [.. Batches.SelectMany(b => b.Rows)];
        }
    }
}
