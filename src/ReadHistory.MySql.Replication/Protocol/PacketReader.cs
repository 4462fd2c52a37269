using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>Reads protocol fields from one packet payload (handshake, ERR, text result sets); every read is bounds-checked and throws <see cref="ReplicationProtocolException"/> past the end.</summary>
internal ref struct PacketReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _offset;

    public PacketReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _offset = 0;
    }

    public readonly int Remaining => _data.Length - _offset;

    public byte ReadByte()
    {
        Need(1);
        return _data[_offset++];
    }

    public readonly byte PeekByte()
    {
        Need(1);
        return _data[_offset];
    }

    public ushort ReadUInt16()
    {
        Need(2);
        var value = BinaryPrimitives.ReadUInt16LittleEndian(_data[_offset..]);
        _offset += 2;
        return value;
    }

    public uint ReadUInt24()
    {
        Need(3);
        var value = (uint)(_data[_offset] | (_data[_offset + 1] << 8) | (_data[_offset + 2] << 16));
        _offset += 3;
        return value;
    }

    public uint ReadUInt32()
    {
        Need(4);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_offset..]);
        _offset += 4;
        return value;
    }

    public ulong ReadUInt64()
    {
        Need(8);
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_offset..]);
        _offset += 8;
        return value;
    }

    /// <summary>A length-encoded integer; 0xFB (NULL) reads as <c>null</c>.</summary>
    public ulong? ReadLengthEncodedIntegerOrNull()
    {
        var first = ReadByte();
        return first switch
        {
            < 0xFB => first,
            0xFB => null,
            0xFC => ReadUInt16(),
            0xFD => ReadUInt24(),
            0xFE => ReadUInt64(),
            _ => throw new ReplicationProtocolException("invalid length-encoded integer prefix 0xFF"),
        };
    }

    /// <summary>A length-encoded string's bytes, or null for NULL (0xFB).</summary>
    public bool TryReadLengthEncodedSpan(out ReadOnlySpan<byte> value)
    {
        var length = ReadLengthEncodedIntegerOrNull();
        if (length is not { } n)
        {
            value = default;
            return false;
        }

        value = ReadLengthEncodedSpan(n);
        return true;
    }

    private ReadOnlySpan<byte> ReadLengthEncodedSpan(ulong length)
    {
        if (length > (ulong)Remaining)
        {
            throw new ReplicationProtocolException($"length-encoded string of {length} bytes runs past the end of a {_data.Length}-byte payload");
        }

        return ReadSpan((int)length);
    }

    public ReadOnlySpan<byte> ReadSpan(int length)
    {
        Need(length);
        var span = _data.Slice(_offset, length);
        _offset += length;
        return span;
    }

    /// <summary>Bytes up to a NUL (consumed); with <paramref name="allowEnd"/>, the rest of the payload when there is no NUL.</summary>
    public ReadOnlySpan<byte> ReadNullTerminatedSpan(bool allowEnd = false)
    {
        var rest = _data[_offset..];
        var index = rest.IndexOf((byte)0);
        if (index < 0)
        {
            if (!allowEnd)
            {
                throw new ReplicationProtocolException("missing NUL terminator");
            }

            _offset = _data.Length;
            return rest;
        }

        _offset += index + 1;
        return rest[..index];
    }

    public string ReadNullTerminatedString(bool allowEnd = false) => Encoding.UTF8.GetString(ReadNullTerminatedSpan(allowEnd));

    public ReadOnlySpan<byte> ReadToEnd()
    {
        var rest = _data[_offset..];
        _offset = _data.Length;
        return rest;
    }

    public void Skip(int count)
    {
        Need(count);
        _offset += count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int count)
    {
        if ((uint)count > (uint)(_data.Length - _offset))
        {
            Throw(count, _data.Length - _offset);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(int count, int remaining) =>
        throw new ReplicationProtocolException($"packet too short: needed {count} more bytes, {remaining} left");
}
