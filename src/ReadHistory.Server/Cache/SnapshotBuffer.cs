using System.Buffers;

namespace ReadHistory.Server.Cache;

/// <summary>
/// A pooled, growable byte buffer that filter snapshots are written into back to back, and that chunks of a Snapshot
/// stream reference without copying until they have been handed to the transport. Not thread-safe.
/// </summary>
internal sealed class SnapshotBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;

    /// <summary>Rents a buffer of at least <paramref name="initialCapacity"/> bytes.</summary>
    public SnapshotBuffer(int initialCapacity) => _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>Bytes written since the last <see cref="Clear"/>.</summary>
    public int Written { get; private set; }

    /// <summary>The written bytes [start, start + length); valid until the next write or <see cref="Clear"/>.</summary>
    public ReadOnlyMemory<byte> Slice(int start, int length) => _array.AsMemory(start, length);

    /// <summary>Forgets the written bytes (the array is kept).</summary>
    public void Clear() => Written = 0;

    /// <summary>The written bytes [start, start + length), writable; valid until the next write or <see cref="Clear"/>.</summary>
    public Span<byte> WrittenSpan(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)start + length, Written, nameof(length));
        return _array.AsSpan(start, length);
    }

    /// <summary>Forgets the bytes written after the first <paramref name="written"/>.</summary>
    public void Rewind(int written)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(written);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(written, Written);
        Written = written;
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (Written + count > _array.Length)
        {
            throw new InvalidOperationException($"advanced past the buffer: {Written} + {count} > {_array.Length}");
        }

        Written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(Written);

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(Written);

    /// <summary>Returns the array to the pool.</summary>
    public void Dispose()
    {
        var array = _array;
        _array = [];
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private byte[] Reserve(int sizeHint)
    {
        var needed = (long)Written + Math.Max(sizeHint, 1);
        if (needed > _array.Length)
        {
            // Only a filter larger than the chunk size (or one that grew a layer while being written) gets here.
            var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _array.Length)));
            _array.AsSpan(0, Written).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_array);
            _array = grown;
        }

        return _array;
    }
}
