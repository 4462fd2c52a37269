using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>Builds one payload of the handshake (little-endian integers, NUL-terminated and length-encoded strings).</summary>
internal sealed class PacketWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    /// <summary>The payload written so far.</summary>
    public ReadOnlyMemory<byte> Payload => _buffer.WrittenMemory;

    public void Write(byte value) => _buffer.Write([value]);

    public void Write(ReadOnlySpan<byte> value) => _buffer.Write(value);

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteNullTerminatedString(string value)
    {
        _buffer.Write(Encoding.UTF8.GetBytes(value));
        Write(0);
    }

    /// <summary>A length-encoded string (the lengths of authentication data stay far below 2^24).</summary>
    public void WriteLengthEncodedBytes(ReadOnlySpan<byte> value)
    {
        switch (value.Length)
        {
            case < 0xFB:
                Write((byte)value.Length);
                break;
            case <= 0xFFFF:
                Write(0xFC);
                BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), (ushort)value.Length);
                _buffer.Advance(2);
                break;
            default:
                Write(0xFD);
                var span = _buffer.GetSpan(3);
                span[0] = (byte)value.Length;
                span[1] = (byte)(value.Length >> 8);
                span[2] = (byte)(value.Length >> 16);
                _buffer.Advance(3);
                break;
        }

        Write(value);
    }
}
