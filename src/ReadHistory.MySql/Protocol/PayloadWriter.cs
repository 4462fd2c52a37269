using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ReadHistory.MySql.Protocol;

/// <summary>
/// Builds one command payload in a pooled, growing buffer that keeps 4 bytes in front for the packet header, so the
/// packet goes to the socket in one write without copying.
/// </summary>
internal sealed class PayloadWriter : IDisposable
{
    public const int HeaderSize = 4;
    private byte[] _buffer;
    private int _position;

    public PayloadWriter(int initialCapacity = 4096)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
        _position = HeaderSize;
    }

    /// <summary>Bytes of payload written so far.</summary>
    public int Length => _position - HeaderSize;

    /// <summary>The whole buffer: 4 header bytes then the payload.</summary>
    public ArraySegment<byte> Packet => new(_buffer, 0, _position);

    /// <summary>The payload only.</summary>
    public ReadOnlyMemory<byte> Payload => new(_buffer, HeaderSize, _position - HeaderSize);

    public void Reset()
    {
        _position = HeaderSize;
        if (_buffer.Length > 1024 * 1024)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(4096);
        }
    }

    public void Write(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    public void Write(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_position));
        _position += value.Length;
    }

    public void WriteUInt16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    public void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteUInt64(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void WriteLengthEncodedInteger(ulong value)
    {
        if (value < 0xFB)
        {
            Write((byte)value);
        }
        else if (value <= 0xFFFF)
        {
            Write(0xFC);
            WriteUInt16((ushort)value);
        }
        else if (value <= 0xFF_FFFF)
        {
            Write(0xFD);
            Ensure(3);
            _buffer[_position++] = (byte)value;
            _buffer[_position++] = (byte)(value >> 8);
            _buffer[_position++] = (byte)(value >> 16);
        }
        else
        {
            Write(0xFE);
            WriteUInt64(value);
        }
    }

    public void WriteLengthEncodedBytes(ReadOnlySpan<byte> value)
    {
        WriteLengthEncodedInteger((ulong)value.Length);
        Write(value);
    }

    public void WriteLengthEncodedString(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteLengthEncodedInteger((ulong)byteCount);
        WriteUtf8(value);
    }

    /// <summary>Writes a string as UTF-8 (no length, no terminator).</summary>
    public void WriteUtf8(ReadOnlySpan<char> value)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(value.Length));
        _position += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_position));
    }

    public void WriteNullTerminatedString(string value)
    {
        WriteUtf8(value);
        Write(0);
    }

    /// <summary>A span of at least <paramref name="size"/> bytes at the write position; call <see cref="Advance"/> after filling it.</summary>
    public Span<byte> GetSpan(int size)
    {
        Ensure(size);
        return _buffer.AsSpan(_position);
    }

    public void Advance(int count) => _position += count;

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Ensure(int count)
    {
        if (_buffer.Length - _position < count)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _position + count));
            _buffer.AsSpan(0, _position).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
    }
}
