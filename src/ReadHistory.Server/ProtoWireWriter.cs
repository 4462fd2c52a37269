namespace ReadHistory.Server;

/// <summary>
/// The one piece of protobuf wire writing the hand-written encoders share (warm start's chunks, peer fan-out's batches,
/// the proxy's Exchange requests): a base-128 varint into a span the caller sized (at most 10 bytes).
/// </summary>
internal static class ProtoWireWriter
{
    /// <summary>Writes <paramref name="value"/> as a varint at the start of <paramref name="span"/>; returns the bytes written.</summary>
    public static int WriteVarint(Span<byte> span, ulong value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[at++] = (byte)value;
        return at;
    }
}
