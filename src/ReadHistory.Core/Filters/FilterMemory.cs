namespace ReadHistory.Core.Filters;

/// <summary>
/// Byte counts of filter objects on the 64-bit CoreCLR heap, so that a cache node can hold filters to a byte
/// budget. Counted honestly: object headers, method-table pointers, array lengths, padding, and the two header
/// words of each layer array (<see cref="FilterWords"/>). A unit test compares these figures with the runtime's own allocation counter.
/// </summary>
/// <remarks>
/// An object takes an 8-byte header (sync block index) and an 8-byte method-table pointer before its fields,
/// and is at least 24 bytes; an array adds its 8-byte length (4 bytes of length + 4 of padding) before the
/// elements. Sizes round up to 8 bytes. Not counted: the heap's own free-list fragmentation, and the shared
/// per-pool <see cref="BloomFilterOptions"/> object.
/// </remarks>
internal static class FilterMemory
{
    /// <summary>Header plus method-table pointer of any object.</summary>
    public const int ObjectHeaderBytes = 16;

    /// <summary>Header, method-table pointer and length of any array.</summary>
    public const int ArrayHeaderBytes = 24;

    /// <summary>A <see cref="BlockedBloomFilter"/>: header + array ref, capacity and rate (8 each), probes (4), padded to 8.</summary>
    public const int LayerObjectBytes = ObjectHeaderBytes + 8 + 8 + 8 + 8;

    /// <summary>A <see cref="UserFilter"/>: header + first-layer array, shape and grown-layers refs (8 each).</summary>
    public const int UserFilterObjectBytes = ObjectHeaderBytes + 8 + 8 + 8;

    /// <summary>A private <see cref="FilterShape"/>: header + options ref, hash seed and mixed seed, rate (8 each), probes (4) and shared flag (1), padded to 8.</summary>
    public const int ShapeObjectBytes = ObjectHeaderBytes + 8 + 8 + 8 + 8 + 8;

    /// <summary>Bytes of an array of <paramref name="length"/> 8-byte elements (ulong, or object references).</summary>
    public static long ArrayBytes(long length) => ArrayHeaderBytes + (8 * length);
}
