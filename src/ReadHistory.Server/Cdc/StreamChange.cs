using System.Buffers.Binary;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// One change carried by a <see cref="ChangeBatch"/>: 19 bytes on the wire.
/// <code>
/// +-------------+-------------------+-------------------+-----------+
/// | user_id u64 | content_type u16  | content_id u64    | kind u8   |
/// +-------------+-------------------+-------------------+-----------+
/// </code>
/// </summary>
internal readonly record struct StreamChange(ulong UserId, ushort ContentType, ulong ContentId, StreamChangeKind Kind)
{
    /// <summary>Encoded size in bytes.</summary>
    public const int Size = 19;

    /// <summary>Writes the change into <paramref name="destination"/> (at least <see cref="Size"/> bytes).</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, UserId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], ContentType);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[10..], ContentId);
        destination[18] = (byte)Kind;
    }

    /// <summary>Reads a change written by <see cref="Write"/>; the kind is not validated here.</summary>
    public static StreamChange Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(source),
        BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(source[10..]),
        (StreamChangeKind)source[18]);
}
