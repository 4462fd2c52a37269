using System.Buffers.Binary;
using System.Globalization;
using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The bytes of <c>SnapshotChunk.cursor</c>: a slot stream position (epoch and entry id) as a Snapshot carries it.
/// </summary>
/// <remarks>
/// Layout, 25 bytes, little-endian:
/// <code>
/// +---------+-----------+--------------------+--------------------+
/// | version | epoch u64 | entry id: ms (u64) | entry id: seq (u64)|
/// |  1 B    |   8 B     |        8 B         |        8 B         |
/// +---------+-----------+--------------------+--------------------+
/// </code>
/// An empty cursor means the sender tails no stream (it knows no position).
/// </remarks>
internal static class SnapshotCursor
{
    /// <summary>The layout version written.</summary>
    public const byte Version = 1;

    /// <summary>Length of an encoded cursor.</summary>
    public const int Length = 25;

    /// <summary>Encodes <paramref name="cursor"/>.</summary>
    public static byte[] Encode(StreamCursor cursor)
    {
        var (ms, seq) = StreamCursor.ParseId(cursor.EntryId);
        var bytes = new byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), cursor.Epoch);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(9), ms);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(17), seq);
        return bytes;
    }

    /// <summary>Decodes a cursor; throws <see cref="InvalidDataException"/> saying what was expected and what arrived.</summary>
    public static StreamCursor Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new InvalidDataException($"snapshot cursor: expected {Length} bytes, got {bytes.Length}");
        }

        if (bytes[0] != Version)
        {
            throw new InvalidDataException($"snapshot cursor: expected version {Version}, got {bytes[0]}");
        }

        var epoch = BinaryPrimitives.ReadUInt64LittleEndian(bytes[1..]);
        var ms = BinaryPrimitives.ReadUInt64LittleEndian(bytes[9..]);
        var seq = BinaryPrimitives.ReadUInt64LittleEndian(bytes[17..]);
        return new StreamCursor(epoch, ms.ToString(CultureInfo.InvariantCulture) + "-" + seq.ToString(CultureInfo.InvariantCulture));
    }
}
