using System.Buffers.Binary;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Coherence;

/// <summary>
/// The changes of one ApplyChanges call to one peer, in commit order, and the completion every writer whose last change
/// is in it waits on. Consecutive rows of one user and type share an entry (a MarkRead is one entry); the arrays are
/// kept when the batch is reused, so a steady sender allocates only the completion per batch.
/// </summary>
internal sealed class PeerBatch
{
    private Entry[] _entries = new Entry[16];
    private ulong[] _ids = new ulong[64];
    private int _idCount;

    /// <summary>Entries (runs of one user and type, or user deletions).</summary>
    public int EntryCount { get; private set; }

    /// <summary>Changes in the batch: content ids plus user deletions.</summary>
    public int Changes { get; private set; }

    /// <summary>When the writers of this batch stop waiting for the peer (a <see cref="TimeProvider"/> timestamp).</summary>
    public long WaitUntil { get; private set; }

    /// <summary>Completed when the peer acknowledged the batch, failed it, or the wait bound elapsed; null until the first change.</summary>
    public TaskCompletionSource? Ack { get; private set; }

    /// <summary>
    /// Completed when the peer acknowledged the batch (it applied every change), when the peer failed (writers stop
    /// waiting for a failing peer), or when the sender stopped; not when the wait bound elapsed. Null until the first change.
    /// </summary>
    public TaskCompletionSource? Done { get; private set; }

    /// <summary>Starts the batch's life as the gathering batch: no changes, a fresh completion, writers wait until <paramref name="waitUntil"/>.</summary>
    public void Open(long waitUntil)
    {
        EntryCount = 0;
        Changes = 0;
        _idCount = 0;
        WaitUntil = waitUntil;
        Ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The wait bound elapsed: lets the writers waiting on <see cref="Ack"/> go on (idempotent).</summary>
    public void Release() => Ack?.TrySetResult();

    /// <summary>The peer answered, failed, or the sender stopped: lets every writer of the batch go on (idempotent).</summary>
    public void Finish()
    {
        Ack?.TrySetResult();
        Done?.TrySetResult();
    }

    /// <summary>Appends rows of one user and type, merged into the last entry when it is the same user and type.</summary>
    public void AddInserts(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items)
    {
        if (items.IsEmpty)
        {
            return;
        }

        if (EntryCount == 0 || _entries[EntryCount - 1] is not { Delete: false } last || last.UserId != userId || last.ContentType != contentType)
        {
            Grow(ref _entries, EntryCount + 1);
            _entries[EntryCount++] = new Entry(userId, contentType, false, _idCount, 0);
        }

        Grow(ref _ids, _idCount + items.Length);
        foreach (var item in items)
        {
            _ids[_idCount++] = item.ContentId;
        }

        _entries[EntryCount - 1].IdCount += items.Length;
        Changes += items.Length;
    }

    /// <summary>Appends the deletion of a user's history.</summary>
    public void AddDeleteUser(ulong userId)
    {
        Grow(ref _entries, EntryCount + 1);
        _entries[EntryCount++] = new Entry(userId, 0, true, _idCount, 0);
        Changes++;
    }

    /// <summary>
    /// Writes the ApplyChangesRequest: <paramref name="header"/> (its pool and slot fields, encoded once) followed by one
    /// <c>changes</c> field per entry, into <paramref name="buffer"/> (grown when short); returns the length.
    /// </summary>
    /// <remarks>
    /// Protobuf wire format, by hand so that no message object is made per entry:
    /// <code>
    /// 1A len            changes (field 3, length-delimited): one UserChanges
    ///   09 u64le          user_id (field 1, fixed64)
    ///   10 varint         content_type (field 2), omitted when 0
    ///   1A len u64le*n    content_ids (field 3, packed fixed64), omitted when empty
    ///   20 01             delete_user (field 4), omitted when false
    /// </code>
    /// </remarks>
    public int Encode(ReadOnlySpan<byte> header, ref byte[] buffer)
    {
        var size = header.Length;
        for (var i = 0; i < EntryCount; i++)
        {
            var inner = InnerSize(_entries[i]);
            size += 1 + VarintSize((uint)inner) + inner;
        }

        if (buffer.Length < size)
        {
            buffer = new byte[Math.Max(size, buffer.Length * 2)];
        }

        var span = buffer.AsSpan();
        header.CopyTo(span);
        var at = header.Length;
        for (var i = 0; i < EntryCount; i++)
        {
            var entry = _entries[i];
            span[at++] = 0x1A;
            at += ProtoWireWriter.WriteVarint(span[at..], (uint)InnerSize(entry));
            span[at++] = 0x09;
            BinaryPrimitives.WriteUInt64LittleEndian(span[at..], entry.UserId);
            at += 8;
            if (entry.ContentType != 0)
            {
                span[at++] = 0x10;
                at += ProtoWireWriter.WriteVarint(span[at..], entry.ContentType);
            }

            if (entry.IdCount > 0)
            {
                span[at++] = 0x1A;
                at += ProtoWireWriter.WriteVarint(span[at..], (uint)entry.IdCount * 8);
                foreach (var id in _ids.AsSpan(entry.IdStart, entry.IdCount))
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(span[at..], id);
                    at += 8;
                }
            }

            if (entry.Delete)
            {
                span[at++] = 0x20;
                span[at++] = 0x01;
            }
        }

        return at;
    }

    private static int InnerSize(Entry entry) =>
        9
        + (entry.ContentType != 0 ? 1 + VarintSize(entry.ContentType) : 0)
        + (entry.IdCount > 0 ? 1 + VarintSize((uint)entry.IdCount * 8) + (entry.IdCount * 8) : 0)
        + (entry.Delete ? 2 : 0);

    private static int VarintSize(uint value) => value < 1u << 7 ? 1 : value < 1u << 14 ? 2 : value < 1u << 21 ? 3 : value < 1u << 28 ? 4 : 5;

    private static void Grow<T>(ref T[] array, int needed)
    {
        if (array.Length < needed)
        {
            Array.Resize(ref array, Math.Max(needed, array.Length * 2));
        }
    }

    private record struct Entry(ulong UserId, ushort ContentType, bool Delete, int IdStart, int IdCount);
}
