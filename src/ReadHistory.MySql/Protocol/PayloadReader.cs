using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace ReadHistory.MySql.Protocol;

/// <summary>Reads protocol fields from one payload; every read is bounds-checked and throws <see cref="MySqlProtocolException"/> past the end.</summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _offset;

    public PayloadReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _offset = 0;
    }

    public readonly int Offset => _offset;

    public readonly int Remaining => _data.Length - _offset;

    public readonly ReadOnlySpan<byte> RemainingSpan => _data[_offset..];

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

    /// <summary>A length-encoded integer; 0xFB (NULL) reads as <c>null</c> only through <see cref="ReadLengthEncodedIntegerOrNull"/>.</summary>
    public ulong ReadLengthEncodedInteger()
    {
        var value = ReadLengthEncodedIntegerOrNull();
        return value ?? throw new MySqlProtocolException("unexpected NULL length-encoded integer");
    }

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
            _ => throw new MySqlProtocolException("invalid length-encoded integer prefix 0xFF"),
        };
    }

    public ReadOnlySpan<byte> ReadLengthEncodedSpan()
    {
        var length = ReadLengthEncodedInteger();
        if (length > (ulong)Remaining)
        {
            throw new MySqlProtocolException($"length-encoded string of {length} bytes runs past the end of a {_data.Length}-byte payload");
        }

        return ReadSpan((int)length);
    }

    public string ReadLengthEncodedString() => Encoding.UTF8.GetString(ReadLengthEncodedSpan());

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
                throw new MySqlProtocolException("missing NUL terminator");
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
        throw new MySqlProtocolException($"packet too short: needed {count} more bytes, {remaining} left");
}
