namespace ReadHistory.LoadGen.Targets;

/// <summary>Bytes a target spends and the rows they hold; <see cref="Source"/> says where the bytes were read.</summary>
internal sealed record MemoryFigure(long Bytes, long Rows, string Source)
{
    /// <summary>Bytes per stored read.</summary>
    public double BytesPerRow => Rows == 0 ? 0 : (double)Bytes / Rows;
}
