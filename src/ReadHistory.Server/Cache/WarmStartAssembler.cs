using System.Buffers;
using System.Runtime.CompilerServices;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Puts the parts of each filter of a Snapshot stream back together. A filter sent whole is handed on as the message's
/// own bytes (no copy); a split one is gathered in a pooled buffer whose size is checked against the limit first.
/// Parts must arrive in order and back to back; anything else is an <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class WarmStartAssembler(long maxFilterBytes) : IDisposable
{
    private byte[]? _pending;
    private ulong _userId;
    private long _total;
    private long _received;

    /// <summary>True while a split filter has arrived only in part.</summary>
    public bool HasPending => _pending is not null;

    /// <summary>
    /// Takes one part; returns true with the whole snapshot in <paramref name="snapshot"/> once a filter is complete
    /// (valid until the next call).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAccept(in SnapshotPart part, out ulong userId, out ReadOnlyMemory<byte> snapshot)
    {
        var data = part.Data;
        userId = part.UserId;
        snapshot = default;
        if (_pending is null)
        {
            if (part.Offset != 0)
            {
                throw new InvalidDataException($"Snapshot stream out of order: expected the first part (offset 0) of user {part.UserId}'s filter, got offset {part.Offset}.");
            }

            if (part.TotalBytes == 0 || part.TotalBytes > (ulong)maxFilterBytes)
            {
                throw new InvalidDataException($"Snapshot stream: user {part.UserId}'s filter declares {part.TotalBytes} bytes; expected 1 to {maxFilterBytes}.");
            }

            if ((ulong)data.Length > part.TotalBytes)
            {
                throw new InvalidDataException($"Snapshot stream: a part of {data.Length} bytes exceeds its filter's declared {part.TotalBytes} bytes (user {part.UserId}).");
            }

            if ((ulong)data.Length == part.TotalBytes)
            {
                snapshot = data;
                return true;
            }

            _pending = ArrayPool<byte>.Shared.Rent((int)part.TotalBytes);
            _userId = part.UserId;
            _total = (long)part.TotalBytes;
            _received = 0;
        }
        else if (part.UserId != _userId || part.Offset != (ulong)_received || part.TotalBytes != (ulong)_total)
        {
            throw new InvalidDataException($"Snapshot stream out of order: expected user {_userId}'s filter at offset {_received} of {_total}, got user {part.UserId} at offset {part.Offset} of {part.TotalBytes}.");
        }

        if (data.Length > _total - _received)
        {
            throw new InvalidDataException($"Snapshot stream: user {_userId}'s filter overflows: {_received} + {data.Length} bytes > {_total} declared.");
        }

        data.Span.CopyTo(_pending.AsSpan((int)_received));
        _received += data.Length;
        if (_received < _total)
        {
            return false;
        }

        snapshot = _pending.AsMemory(0, (int)_total);
        userId = _userId;
        return true;
    }

    /// <summary>Releases the buffer of a completed split filter (call after installing it).</summary>
    public void Release()
    {
        if (_pending is { } pending && _received == _total)
        {
            _pending = null;
            ArrayPool<byte>.Shared.Return(pending);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_pending is { } pending)
        {
            _pending = null;
            ArrayPool<byte>.Shared.Return(pending);
        }
    }
}
