namespace ReadHistory.Server.Storage;

/// <summary>
/// One stored row. <see cref="ReadAt"/> is Unix seconds (INT UNSIGNED, good until 2106): a dedup service needs to know
/// that a read happened, not its millisecond, and 4 bytes of low entropy compress far better than 8 bytes of
/// millisecond noise (the bytes-per-row aim is about 10).
/// </summary>
internal readonly record struct HistoryRow(ulong UserId, ushort ContentType, ulong ContentId, uint ReadAt) : IComparable<HistoryRow>
{
    /// <summary>Orders by primary key (user, type, id), the order rows are locked and stored in.</summary>
    public int CompareTo(HistoryRow other)
    {
        var c = UserId.CompareTo(other.UserId);
        if (c != 0)
        {
            return c;
        }

        c = ContentType.CompareTo(other.ContentType);
        return c != 0 ? c : ContentId.CompareTo(other.ContentId);
    }

    /// <summary>Whether two rows have the same primary key.</summary>
    public bool SameKey(in HistoryRow other) => UserId == other.UserId && ContentType == other.ContentType && ContentId == other.ContentId;

    /// <summary>Converts Unix milliseconds to the stored seconds (0 or negative = <paramref name="nowSeconds"/>; capped at 2^32-1).</summary>
    public static uint ToStoredSeconds(long unixMilliseconds, uint nowSeconds) =>
        unixMilliseconds <= 0 ? nowSeconds : (uint)Math.Min(unixMilliseconds / 1000, uint.MaxValue);
}

/// <summary>One row of a rebuild scan (the user is implied).</summary>
internal readonly record struct ScannedRow(ushort ContentType, ulong ContentId, uint ReadAt);
