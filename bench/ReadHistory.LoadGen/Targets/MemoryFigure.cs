namespace ReadHistory.LoadGen.Targets;

/// <summary>Bytes a target spends and the rows they hold; <see cref="Source"/> says where the bytes were read.</summary>
internal sealed record MemoryFigure(long Bytes, long Rows, string Source)
{
    /// <summary>The service's own false-positive rate, measured by its cache node's verifier against the database (CacheNode.Stats), at the end of the run; null when not known.</summary>
    public double? VerifiedFalsePositiveRate { get; init; }

    /// <summary>The negatives behind <see cref="VerifiedFalsePositiveRate"/>.</summary>
    public long VerifiedSamples { get; init; }

    /// <summary>Bytes per stored read.</summary>
    public double BytesPerRow => Rows == 0 ? 0 : (double)Bytes / Rows;
}
