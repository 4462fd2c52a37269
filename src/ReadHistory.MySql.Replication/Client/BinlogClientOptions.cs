using System.Security.Cryptography;

namespace ReadHistory.MySql.Replication.Client;

/// <summary>Where a binlog dump starts.</summary>
public sealed class BinlogStart
{
    private BinlogStart(BinlogStartKind kind, BinlogPosition? position, MariaDbGtidPosition? gtid, MySqlGtidSet? mySqlGtids)
    {
        Kind = kind;
        Position = position;
        GtidPosition = gtid;
        MySqlGtidSet = mySqlGtids;
    }

    /// <summary>How the start is given.</summary>
    public BinlogStartKind Kind { get; }

    /// <summary>File and position (for <see cref="BinlogStartKind.Position"/>).</summary>
    public BinlogPosition? Position { get; }

    /// <summary>MariaDB GTID position (for <see cref="BinlogStartKind.MariaDbGtid"/>).</summary>
    public MariaDbGtidPosition? GtidPosition { get; }

    /// <summary>MySQL GTID set already seen (for <see cref="BinlogStartKind.MySqlGtid"/>).</summary>
    public MySqlGtidSet? MySqlGtidSet { get; }

    /// <summary>The end of the binlog now (SHOW MASTER STATUS): only changes made from now on.</summary>
    public static BinlogStart Current { get; } = new(BinlogStartKind.Current, null, null, null);

    /// <summary>The start of the oldest binlog file the server still has.</summary>
    public static BinlogStart Earliest { get; } = new(BinlogStartKind.Earliest, null, null, null);

    /// <summary>A binlog file and the position of the next event to read (4 = start of the file).</summary>
    public static BinlogStart FromPosition(string fileName, ulong position) =>
        new(BinlogStartKind.Position, new BinlogPosition(fileName, position), null, null);

    /// <summary>A MariaDB GTID position such as "0-1-42,1-2-7": the events after those GTIDs.</summary>
    public static BinlogStart FromGtid(MariaDbGtidPosition position) => new(BinlogStartKind.MariaDbGtid, null, position, null);

    /// <summary>A MariaDB GTID position such as "0-1-42,1-2-7".</summary>
    public static BinlogStart FromGtid(string position) => FromGtid(MariaDbGtidPosition.Parse(position));

    /// <summary>A MySQL GTID set: the transactions not in it (COM_BINLOG_DUMP_GTID; MySQL only).</summary>
    public static BinlogStart FromMySqlGtidSet(string gtidSet) => new(BinlogStartKind.MySqlGtid, null, null, MySqlGtidSet.Parse(gtidSet));

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        BinlogStartKind.Position => "position " + Position,
        BinlogStartKind.MariaDbGtid => "GTID " + GtidPosition,
        BinlogStartKind.MySqlGtid => "MySQL GTID set " + MySqlGtidSet,
        _ => Kind.ToString(),
    };
}

/// <summary>How a <see cref="BinlogStart"/> is given.</summary>
public enum BinlogStartKind
{
    /// <summary>The current end of the binlog.</summary>
    Current,

    /// <summary>The oldest binlog file.</summary>
    Earliest,

    /// <summary>A file and position.</summary>
    Position,

    /// <summary>A MariaDB GTID position.</summary>
    MariaDbGtid,

    /// <summary>A MySQL GTID set.</summary>
    MySqlGtid,
}

/// <summary>Settings of a <see cref="BinlogClient"/>.</summary>
public sealed class BinlogClientOptions
{
    /// <summary>Connection string (MySqlConnector keys); the user needs REPLICATION SLAVE (and REPLICATION CLIENT for SHOW MASTER STATUS).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// The server id this client registers as. Must differ from every server and replica of the topology (a second
    /// dump with the same id makes the server drop the first). Default: random in 1,000,000,000..1,999,999,999.
    /// </summary>
    public uint ServerId { get; init; } = (uint)RandomNumberGenerator.GetInt32(1_000_000_000, 2_000_000_000);

    /// <summary>Where to start. Default: <see cref="BinlogStart.Current"/>.</summary>
    public BinlogStart Start { get; init; } = BinlogStart.Current;

    /// <summary>
    /// How often the server sends a heartbeat when it has no event to send (@master_heartbeat_period). No event nor
    /// heartbeat for <see cref="HeartbeatTimeoutFactor"/> periods counts as a lost connection. Zero turns both off.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Periods of silence after which the connection counts as lost (2.5).</summary>
    public double HeartbeatTimeoutFactor { get; init; } = 2.5;

    /// <summary>Verify each event's CRC32 when the server writes checksums (default true).</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// (schema, table) → whether to decode rows of that table. Rows of excluded tables are skipped before any row
    /// is decoded (their transactions still come out, without those rows, so the position moves on).
    /// </summary>
    public Func<string, string, bool>? TableFilter { get; init; }

    /// <summary>Whether transactions with no included row change and no statement are returned (default true: they carry the position forward).</summary>
    public bool IncludeEmptyTransactions { get; init; } = true;

    /// <summary>Stop at the end of the binlog instead of waiting for new events (BINLOG_DUMP_NON_BLOCK).</summary>
    public bool StopAtEnd { get; init; }

    /// <summary>Reconnect attempts in a row before giving up (default 30; each waits <see cref="ReconnectBackoff"/>, doubling up to <see cref="MaxReconnectBackoff"/>).</summary>
    public int MaxReconnectAttempts { get; init; } = 30;

    /// <summary>Longest time to keep reconnecting after a lost connection before giving up (default 2 minutes).</summary>
    public TimeSpan ReconnectTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The first wait before reconnecting (default 200 ms).</summary>
    public TimeSpan ReconnectBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between reconnect attempts (default 5 s).</summary>
    public TimeSpan MaxReconnectBackoff { get; init; } = TimeSpan.FromSeconds(5);
}
