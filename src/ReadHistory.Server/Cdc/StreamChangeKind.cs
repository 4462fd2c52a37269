namespace ReadHistory.Server.Cdc;

/// <summary>What one change of a <see cref="ChangeBatch"/> does (one byte on the wire).</summary>
internal enum StreamChangeKind : byte
{
    /// <summary>A row (user, type, id) was inserted or updated: consumers set its bits (idempotent).</summary>
    Upsert = 1,

    /// <summary>A row was deleted: a Bloom filter cannot unset bits, so consumers drop the user's filter (it is rebuilt on its next miss).</summary>
    Delete = 2,

    /// <summary>The user's whole history was deleted (content type and id are 0): consumers drop the user's filter.</summary>
    ForgetUser = 3,
}
