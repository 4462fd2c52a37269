using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;

namespace ReadHistory.TestSupport.Server;

/// <summary>
/// A test double of the database for the cache logic: rows in a dictionary under one lock, with hooks to hold a scan
/// open (so writes race with it), to fail scans, and counters of every call. A scan reads a snapshot taken when it
/// starts, as a consistent-snapshot scan on MariaDB does.
/// </summary>
internal sealed class InMemoryHistorySource : IHistorySource
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, HashSet<ContentKey>> _rows = [];
    private int _scans;
    private int _counts;
    private int _pointQueries;
    private int _lowPriorityQueries;
    private int _writes;
    private int _failScans;

    /// <summary>When set, every scan waits for it after taking its snapshot (and before yielding rows).</summary>
    public TaskCompletionSource? ScanGate { get; set; }

    /// <summary>When set, every point query and count waits for it (after being counted), as a database under load would.</summary>
    public TaskCompletionSource? PointQueryGate { get; set; }

    /// <summary>Completed by the first scan that reaches the gate.</summary>
    public TaskCompletionSource ScanReachedGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Yield to the thread pool every this many scanned rows (0 = never), so writes interleave with scans.</summary>
    public int YieldEvery { get; set; }

    /// <summary>Scans started.</summary>
    public int Scans => Volatile.Read(ref _scans);

    /// <summary>Counts made.</summary>
    public int Counts => Volatile.Read(ref _counts);

    /// <summary>Point queries made.</summary>
    public int PointQueries => Volatile.Read(ref _pointQueries);

    /// <summary>Writes committed.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Makes the next <paramref name="count"/> scans throw.</summary>
    public void FailNextScans(int count) => Volatile.Write(ref _failScans, count);

    /// <summary>Stores a row directly, as if written before the test.</summary>
    public void Seed(ulong userId, ushort contentType, ulong contentId)
    {
        lock (_gate)
        {
            RowsOf(userId).Add(new ContentKey(contentType, contentId));
        }
    }

    /// <summary>Whether a row is stored.</summary>
    public bool Contains(ulong userId, ushort contentType, ulong contentId)
    {
        lock (_gate)
        {
            return _rows.TryGetValue(userId, out var rows) && rows.Contains(new ContentKey(contentType, contentId));
        }
    }

    /// <inheritdoc />
    public async Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _pointQueries);
        if (PointQueryGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return Answer(userId, contentType, contentIds.Span, readBitmap.Span);
    }

    /// <inheritdoc />
    /// <remarks>Counted apart from <see cref="PointQueries"/> and never gated: it is background work (the verifier, Explain).</remarks>
    public Task<int> LowPriorityPointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lowPriorityQueries);
        return Task.FromResult(Answer(userId, contentType, contentIds.Span, readBitmap.Span));
    }

    /// <summary>Low-priority point queries made.</summary>
    public int LowPriorityQueries => Volatile.Read(ref _lowPriorityQueries);

    /// <inheritdoc />
    public async Task<long> CountAsync(ulong userId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _counts);
        if (PointQueryGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        lock (_gate)
        {
            return _rows.TryGetValue(userId, out var rows) ? rows.Count : 0;
        }
    }

    private int Answer(ulong userId, ushort contentType, ReadOnlySpan<ulong> ids, Span<byte> bitmap)
    {
        bitmap[..((ids.Length + 7) / 8)].Clear();
        var unread = 0;
        lock (_gate)
        {
            _rows.TryGetValue(userId, out var rows);
            for (var i = 0; i < ids.Length; i++)
            {
                if (rows is not null && rows.Contains(new ContentKey(contentType, ids[i])))
                {
                    bitmap[i / 8] |= (byte)(1 << (i % 8));
                }
                else
                {
                    unread++;
                }
            }
        }

        return unread;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ContentKey> ScanAsync(ulong userId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _scans);
        ContentKey[] snapshot;
        lock (_gate)
        {
            snapshot = _rows.TryGetValue(userId, out var rows) ? [.. rows] : [];
        }

        if (Interlocked.Decrement(ref _failScans) >= 0)
        {
            throw new InvalidOperationException("scan failed (test double)");
        }

        if (ScanGate is { } gate)
        {
            ScanReachedGate.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
        }

        for (var i = 0; i < snapshot.Length; i++)
        {
            if (YieldEvery > 0 && i % YieldEvery == 0)
            {
                await Task.Yield();
            }

            yield return snapshot[i];
        }
    }

    /// <inheritdoc />
    public async Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (_gate)
        {
            return _rows.Remove(userId, out var rows) ? rows.Count : 0;
        }
    }

    /// <inheritdoc />
    public async Task WriteAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, CancellationToken cancellationToken)
    {
        await Task.Yield(); // group commit completes on another thread
        lock (_gate)
        {
            var rows = RowsOf(userId);
            foreach (var item in items.Span)
            {
                rows.Add(new ContentKey(contentType, item.ContentId));
            }
        }

        Interlocked.Increment(ref _writes);
    }

    private HashSet<ContentKey> RowsOf(ulong userId)
    {
        if (!_rows.TryGetValue(userId, out var rows))
        {
            rows = [];
            _rows[userId] = rows;
        }

        return rows;
    }
}
