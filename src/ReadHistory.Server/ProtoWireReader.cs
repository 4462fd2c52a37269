using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace ReadHistory.Server;

/// <summary>
/// A cursor over protobuf wire bytes that throws <see cref="InvalidDataException"/> on anything malformed, naming the
/// message (<c>root</c>, and the nested <c>message</c> being read), the field and the offset. For the decoders that
/// read a message without the generated parser's objects (warm start's chunks, the proxy's Exchange answers).
/// </summary>
internal ref struct ProtoWireReader(ReadOnlySpan<byte> data, int offset, string root, string message)
{
    /// <summary>Wire type 0.</summary>
    public const int WireVarint = (int)WireFormat.WireType.Varint;

    /// <summary>Wire type 1.</summary>
    public const int WireFixed64 = (int)WireFormat.WireType.Fixed64;

    /// <summary>Wire type 2.</summary>
    public const int WireLength = (int)WireFormat.WireType.LengthDelimited;

    /// <summary>Wire type 5.</summary>
    public const int WireFixed32 = (int)WireFormat.WireType.Fixed32;

    private readonly ReadOnlySpan<byte> _data = data;

    /// <summary>Where the next read starts.</summary>
    public int Offset { get; private set; } = offset;

    /// <summary>Whether every byte was read.</summary>
    public readonly bool AtEnd => Offset >= _data.Length;

    /// <summary>The next field's number and wire type. The per-field reads are inlined into the parsers; failures are built out of line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (int Field, int Wire) ReadTag()
    {
        var at = Offset;
        var tag = ReadVarint("tag");
        var field = tag >> 3;
        if (field is 0 or > (1 << 29) - 1)
        {
            ThrowBadField(field, at);
        }

        return ((int)field, (int)(tag & 7));
    }

    /// <summary>A varint; <paramref name="field"/> names it in a failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint(string field)
    {
        if (Offset < _data.Length && _data[Offset] < 0x80)
        {
            return _data[Offset++];
        }

        return ReadLongVarint(field);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong ReadLongVarint(string field)
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (Offset >= _data.Length)
            {
                throw Malformed($"{field} ends inside a varint at offset {Offset}");
            }

            var b = _data[Offset++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Malformed($"{field}: a varint longer than 10 bytes at offset {Offset}");
    }

    /// <summary>A little-endian fixed64.</summary>
    public ulong ReadFixed64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    /// <summary>A length-delimited field's bytes (a view of the input).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadLengthDelimited(string field)
    {
        var length = ReadVarint(field);
        if (length > (ulong)(_data.Length - Offset))
        {
            ThrowTooLong(length, field);
        }

        return Take((int)length, field);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowBadField(ulong field, int at) =>
        throw Malformed($"field number {field} at offset {at}; expected 1 to {(1 << 29) - 1}");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowTooLong(ulong length, string field) =>
        throw Malformed($"{field} declares {length} bytes at offset {Offset}; only {_data.Length - Offset} remain");

    /// <summary>Skips the value of a field the caller does not read.</summary>
    public void Skip(int field, int wire)
    {
        const string Name = "an unknown field";
        switch (wire)
        {
            case WireVarint:
                ReadVarint(Name);
                break;
            case WireFixed64:
                Take(8, Name);
                break;
            case WireLength:
                ReadLengthDelimited(Name);
                break;
            case WireFixed32:
                Take(4, Name);
                break;
            default:
                throw Malformed($"field {field} has wire type {wire} at offset {Offset}; expected 0, 1, 2 or 5");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (_data.Length - Offset < count)
        {
            ThrowShort(count, field);
        }

        var span = _data.Slice(Offset, count);
        Offset += count;
        return span;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowShort(int count, string field) =>
        throw Malformed($"{field} needs {count} bytes at offset {Offset}; only {_data.Length - Offset} remain");

    private readonly InvalidDataException Malformed(string what) => new($"{root} bytes are malformed ({message}): {what}.");
}
