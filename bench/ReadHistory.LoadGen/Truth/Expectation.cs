namespace ReadHistory.LoadGen.Truth;

/// <summary>What the ground truth says about one candidate of a check.</summary>
internal enum Expectation : byte
{
    /// <summary>Never written: reporting it read is a false positive.</summary>
    Unread = 0,

    /// <summary>Preloaded, or acknowledged in this session before the check: reporting it unread is a false negative.</summary>
    Read = 1,

    /// <summary>Acknowledged in another session longer ago than the coherence window: must be read too (counted apart).</summary>
    ReadOtherSession = 2,

    /// <summary>Acknowledged in another session inside the coherence window: either answer is allowed.</summary>
    Unsure = 3,
}
