using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// MariaDB GTID_EVENT (type 162): starts an event group (a transaction, or one stand-alone DDL statement) with its
/// global transaction id domain-server-sequence; the server id is the header's.
/// <code>
/// +----------+-----------+--------+--------------------------------------------------+
/// | seq_no   | domain_id | flags2 | commit_id (8, when FL_GROUP_COMMIT_ID) or XA xid |
/// | 8 bytes  |  4 bytes  | 1 byte | (when FL_PREPARED_XA/FL_COMPLETED_XA) or 6 zeros |
/// +----------+-----------+--------+--------------------------------------------------+
/// </code>
/// Spec: https://mariadb.com/kb/en/gtid_event/
/// </summary>
public sealed class MariaDbGtidEvent : BinlogEvent
{
    /// <summary>FL_STANDALONE: no terminating COMMIT/XID event; the group is the one next event (DDL).</summary>
    public const byte FlagStandalone = 1;

    /// <summary>FL_GROUP_COMMIT_ID: a commit id follows.</summary>
    public const byte FlagGroupCommitId = 2;

    /// <summary>FL_TRANSACTIONAL: the group can be rolled back safely.</summary>
    public const byte FlagTransactional = 4;

    /// <summary>FL_ALLOW_PARALLEL.</summary>
    public const byte FlagAllowParallel = 8;

    /// <summary>FL_WAITED: the transaction waited on a lock on the source.</summary>
    public const byte FlagWaited = 16;

    /// <summary>FL_DDL: the group is DDL.</summary>
    public const byte FlagDdl = 32;

    /// <summary>FL_PREPARED_XA: XA PREPARE group.</summary>
    public const byte FlagPreparedXa = 64;

    /// <summary>FL_COMPLETED_XA: XA COMMIT/ROLLBACK group.</summary>
    public const byte FlagCompletedXa = 128;

    private MariaDbGtidEvent(BinlogEventHeader header, MariaDbGtid gtid, byte flags, ulong commitId)
        : base(header)
    {
        Gtid = gtid;
        Flags = flags;
        CommitId = commitId;
    }

    /// <summary>The global transaction id.</summary>
    public MariaDbGtid Gtid { get; }

    /// <summary>flags2 (FL_* constants of this class).</summary>
    public byte Flags { get; }

    /// <summary>The group commit id, or 0.</summary>
    public ulong CommitId { get; }

    /// <summary>Whether the group has no terminating COMMIT/XID (a DDL statement alone).</summary>
    public bool IsStandalone => (Flags & FlagStandalone) != 0;

    /// <summary>Whether the group is DDL.</summary>
    public bool IsDdl => (Flags & FlagDdl) != 0;

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static MariaDbGtidEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new BinlogSpanReader(body, "GTID_EVENT");
        var sequence = reader.ReadUInt64("seq_no");
        var domain = reader.ReadUInt32("domain_id");
        var flags = reader.ReadByte("flags2");
        var commitId = (flags & FlagGroupCommitId) != 0 ? reader.ReadUInt64("commit_id") : 0;
        return new MariaDbGtidEvent(header, new MariaDbGtid(domain, header.ServerId, sequence), flags, commitId);
    }

    /// <inheritdoc />
    public override string ToString() => $"GTID {Gtid} (flags 0x{Flags:X2})";
}
