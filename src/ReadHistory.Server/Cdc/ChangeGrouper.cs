using ReadHistory.MySql.Replication;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.MySql.Replication.Rows;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// Turns the rows of committed transactions into encoded changes gathered per (pool, slot) stream, until
/// <see cref="Drain"/> hands them out as one batch per touched stream. Rows are read with the allocation-free row
/// reader; columns by position (user_id, content_type, content_id first, as the schema creates them).
/// Not thread-safe.
/// </summary>
internal sealed class ChangeGrouper
{
    private const int UserColumn = 0;
    private const int TypeColumn = 1;
    private const int IdColumn = 2;

    private readonly CdcTopology _topology;
    private readonly byte[][] _buffers;
    private readonly int[] _lengths;
    private readonly List<int> _touched = [];
    private readonly int[] _scratch = new int[64];

    /// <summary>Creates a grouper for the topology.</summary>
    public ChangeGrouper(CdcTopology topology)
    {
        _topology = topology ?? throw new ArgumentNullException(nameof(topology));
        _buffers = new byte[topology.StreamCount][];
        _lengths = new int[topology.StreamCount];
    }

    /// <summary>Rows added since the last drain (each counted once, whatever the number of pools).</summary>
    public int PendingRows { get; private set; }

    /// <summary>Whether anything waits to be drained.</summary>
    public bool HasPending => _touched.Count > 0;

    /// <summary>Adds every row of a transaction's (already filtered) rows events; returns the number of rows.</summary>
    public int Add(BinlogTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var rows = 0;
        foreach (var rowsEvent in transaction.RowsEvents)
        {
            rows += Add(rowsEvent);
        }

        return rows;
    }

    /// <summary>Adds the rows of one rows event; returns the number of rows.</summary>
    public int Add(RowsEvent rowsEvent)
    {
        ArgumentNullException.ThrowIfNull(rowsEvent);
        if (rowsEvent.ColumnCount < 3)
        {
            throw new InvalidOperationException($"a history table has at least 3 columns (user_id, content_type, content_id); `{rowsEvent.Table?.Schema}`.`{rowsEvent.Table?.Table}` has {rowsEvent.ColumnCount}");
        }

        Span<int> scratch = rowsEvent.ColumnCount * 2 <= _scratch.Length ? _scratch : new int[rowsEvent.ColumnCount * 2];
        var reader = rowsEvent.GetRowReader(scratch);
        var count = 0;
        while (reader.Read())
        {
            count++;
            switch (reader.Kind)
            {
                case RowChangeKind.Insert:
                    AddImage(reader.After, StreamChangeKind.Upsert);
                    break;
                case RowChangeKind.Delete:
                    AddImage(reader.Before, StreamChangeKind.Delete);
                    break;
                default:
                    var before = reader.Before;
                    var after = reader.After;
                    if (before.IsPresent(UserColumn) && before.IsPresent(TypeColumn) && before.IsPresent(IdColumn)
                        && (before.GetUInt64(UserColumn) != after.GetUInt64(UserColumn)
                            || before.GetUInt64(TypeColumn) != after.GetUInt64(TypeColumn)
                            || before.GetUInt64(IdColumn) != after.GetUInt64(IdColumn)))
                    {
                        AddImage(before, StreamChangeKind.Delete); // the key moved: the old row is gone
                    }

                    AddImage(after, StreamChangeKind.Upsert);
                    break;
            }
        }

        PendingRows += count;
        return count;
    }

    /// <summary>Adds one change directly (forget-user signals, tests).</summary>
    public void Add(in StreamChange change)
    {
        for (var pool = 0; pool < _topology.Pools.Count; pool++)
        {
            Append(_topology.StreamIndex(pool, change.UserId), change);
        }

        PendingRows++;
    }

    /// <summary>
    /// Hands out one batch per touched stream (dense stream index, encoded batch) and empties the grouper.
    /// </summary>
    public List<(int Stream, byte[] Batch)> Drain(ulong epoch, long commitTimeMs, string sourcePosition)
    {
        var batches = new List<(int, byte[])>(_touched.Count);
        _touched.Sort();
        foreach (var stream in _touched)
        {
            batches.Add((stream, ChangeBatch.CreateFromEncoded(epoch, commitTimeMs, sourcePosition, _buffers[stream].AsSpan(0, _lengths[stream]))));
            _lengths[stream] = 0;
        }

        _touched.Clear();
        PendingRows = 0;
        return batches;
    }

    /// <summary>Drops everything pending.</summary>
    public void Clear()
    {
        foreach (var stream in _touched)
        {
            _lengths[stream] = 0;
        }

        _touched.Clear();
        PendingRows = 0;
    }

    private void AddImage(RowImage image, StreamChangeKind kind)
    {
        var change = new StreamChange(image.GetUInt64(UserColumn), (ushort)image.GetUInt64(TypeColumn), image.GetUInt64(IdColumn), kind);
        for (var pool = 0; pool < _topology.Pools.Count; pool++)
        {
            Append(_topology.StreamIndex(pool, change.UserId), change);
        }
    }

    private void Append(int stream, in StreamChange change)
    {
        var length = _lengths[stream];
        var buffer = _buffers[stream];
        if (buffer is null || buffer.Length - length < StreamChange.Size)
        {
            var grown = new byte[Math.Max(StreamChange.Size * 64, (buffer?.Length ?? 0) * 2)];
            buffer?.AsSpan(0, length).CopyTo(grown);
            _buffers[stream] = buffer = grown;
        }

        if (length == 0)
        {
            _touched.Add(stream);
        }

        change.Write(buffer.AsSpan(length));
        _lengths[stream] = length + StreamChange.Size;
    }
}
