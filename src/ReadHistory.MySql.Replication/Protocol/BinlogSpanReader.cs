using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>
/// A forward-only reader over event bytes (little-endian unless a method says otherwise). Every read checks the
/// bounds first and throws <see cref="BinlogFormatException"/> naming the structure being read, the field, what
/// was expected and what arrived, so hostile or truncated input fails clearly instead of reading garbage.
/// </summary>
internal ref struct BinlogSpanReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _context;
    private int _position;

    /// <summary>Creates a reader; <paramref name="context"/> names the structure in error messages (e.g. "TABLE_MAP_EVENT").</summary>
    public BinlogSpanReader(ReadOnlySpan<byte> buffer, string context)
    {
        _buffer = buffer;
        _context = context;
        _position = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _buffer.Length - _position;

    /// <summary>Whether every byte was consumed.</summary>
    public readonly bool IsAtEnd => _position >= _buffer.Length;

    /// <summary>The unread bytes.</summary>
    public readonly ReadOnlySpan<byte> Rest => _buffer[_position..];

    /// <summary>Reads one byte.</summary>
    public byte ReadByte(string field)
    {
        Need(1, field);
        return _buffer[_position++];
    }

    /// <summary>Reads a 2-byte little-endian integer.</summary>
    public ushort ReadUInt16(string field)
    {
        Need(2, field);
        var value = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[_position..]);
        _position += 2;
        return value;
    }

    /// <summary>Reads a 3-byte little-endian integer.</summary>
    public uint ReadUInt24(string field)
    {
        Need(3, field);
        var value = (uint)(_buffer[_position] | (_buffer[_position + 1] << 8) | (_buffer[_position + 2] << 16));
        _position += 3;
        return value;
    }

    /// <summary>Reads a 4-byte little-endian integer.</summary>
    public uint ReadUInt32(string field)
    {
        Need(4, field);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_position..]);
        _position += 4;
        return value;
    }

    /// <summary>Reads a 6-byte little-endian integer (table ids).</summary>
    public ulong ReadUInt48(string field)
    {
        Need(6, field);
        var low = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_position..]);
        var high = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[(_position + 4)..]);
        _position += 6;
        return low | ((ulong)high << 32);
    }

    /// <summary>Reads an 8-byte little-endian integer.</summary>
    public ulong ReadUInt64(string field)
    {
        Need(8, field);
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_position..]);
        _position += 8;
        return value;
    }

    /// <summary>
    /// Reads a length-encoded integer: one byte below 0xFB, or 0xFC + 2 bytes, 0xFD + 3 bytes, 0xFE + 8 bytes.
    /// </summary>
    public ulong ReadLengthEncoded(string field)
    {
        var first = ReadByte(field);
        return first switch
        {
            < 0xFB => first,
            0xFC => ReadUInt16(field),
            0xFD => ReadUInt24(field),
            0xFE => ReadUInt64(field),
            _ => throw Error($"a length-encoded integer for {field}, but the prefix byte is 0x{first:X2} (NULL or invalid)"),
        };
    }

    /// <summary>Reads a length-encoded integer that must fit in an int and in what is left of the buffer when it is a length.</summary>
    public int ReadLengthEncodedCount(string field, int max)
    {
        var value = ReadLengthEncoded(field);
        if (value > (ulong)max)
        {
            throw Error($"{field} of at most {max}, but it is {value}");
        }

        return (int)value;
    }

    /// <summary>Reads <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        if (count < 0)
        {
            throw Error($"a non-negative length for {field}, but it is {count}");
        }

        Need(count, field);
        var slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    /// <summary>Reads a length-encoded byte string.</summary>
    public ReadOnlySpan<byte> ReadLengthEncodedBytes(string field) =>
        ReadBytes(ReadLengthEncodedCount(field, Remaining), field);

    /// <summary>Reads <paramref name="count"/> bytes as UTF-8 text.</summary>
    public string ReadString(int count, string field) => Encoding.UTF8.GetString(ReadBytes(count, field));

    /// <summary>Skips <paramref name="count"/> bytes.</summary>
    public void Skip(int count, string field) => ReadBytes(count, field);

    /// <summary>Reads one byte that must equal <paramref name="expected"/> (e.g. a terminating NUL).</summary>
    public void Expect(byte expected, string field)
    {
        var actual = ReadByte(field);
        if (actual != expected)
        {
            throw Error($"0x{expected:X2} for {field}, but got 0x{actual:X2}");
        }
    }

    /// <summary>The exception for a malformed value at the current position.</summary>
    public readonly BinlogFormatException Error(string expectation) =>
        new($"{_context}: expected {expectation} (at byte {_position} of {_buffer.Length}).");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int count, string field)
    {
        if ((uint)count > (uint)(_buffer.Length - _position))
        {
            ThrowTruncated(count, field);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowTruncated(int count, string field) =>
        throw new BinlogFormatException(
            $"{_context}: expected {count} byte(s) for {field} at byte {_position}, but only {_buffer.Length - _position} remain (truncated or corrupt event).");
}
