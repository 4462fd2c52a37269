using ReadHistory.MySql.Replication.Events;
using ReadHistory.MySql.Replication.Rows;

namespace ReadHistory.MySql.Replication;

/// <summary>
/// One committed transaction (or one stand-alone statement such as DDL) from the binlog: where it ends, its GTID,
/// its statements and its row changes. Rows stay encoded in <see cref="RowsEvents"/> (read them without boxing
/// with <see cref="RowsEvent.GetRowReader()"/>) until <see cref="Changes"/> decodes them.
/// </summary>
public sealed class BinlogTransaction
{
    private IReadOnlyList<RowChange>? _changes;

    internal BinlogTransaction(
        MariaDbGtid? gtid, string? mySqlGtid, MariaDbGtidPosition gtidPosition, BinlogPosition position,
        DateTimeOffset commitTimestamp, IReadOnlyList<RowsEvent> rowsEvents, IReadOnlyList<QueryEvent> statements)
    {
        Gtid = gtid;
        MySqlGtid = mySqlGtid;
        GtidPosition = gtidPosition;
        Position = position;
        CommitTimestamp = commitTimestamp;
        RowsEvents = rowsEvents;
        Statements = statements;
    }

    /// <summary>The MariaDB GTID of the transaction, when the source is MariaDB.</summary>
    public MariaDbGtid? Gtid { get; }

    /// <summary>The MySQL GTID ("uuid:gno"), when the source is MySQL with GTIDs.</summary>
    public string? MySqlGtid { get; }

    /// <summary>The MariaDB GTID position once this transaction is applied: resume from it to get what follows.</summary>
    public MariaDbGtidPosition GtidPosition { get; }

    /// <summary>The binlog file and position just after the commit: resume from it to get what follows.</summary>
    public BinlogPosition Position { get; }

    /// <summary>When the transaction committed (source clock, seconds).</summary>
    public DateTimeOffset CommitTimestamp { get; }

    /// <summary>The rows events of included tables, in order (encoded).</summary>
    public IReadOnlyList<RowsEvent> RowsEvents { get; }

    /// <summary>The statements in the group other than BEGIN/COMMIT (DDL: TRUNCATE, DROP, ALTER...).</summary>
    public IReadOnlyList<QueryEvent> Statements { get; }

    /// <summary>Whether the transaction carries no row change and no statement (e.g. every table filtered out).</summary>
    public bool IsEmpty => RowsEvents.Count == 0 && Statements.Count == 0;

    /// <summary>The row changes decoded with boxed values (decoded on first access).</summary>
    public IReadOnlyList<RowChange> Changes => _changes ??= RowsEvents.SelectMany(e => e.DecodeRows()).ToArray();

    /// <inheritdoc />
    public override string ToString() =>
        $"transaction {Gtid?.ToString() ?? MySqlGtid ?? "(no gtid)"} at {Position}: {RowsEvents.Count} rows event(s), {Statements.Count} statement(s)";
}

/// <summary>
/// Groups decoded events into committed transactions. A group opens with a GTID event (MariaDB GTID_EVENT, MySQL
/// GTID_LOG_EVENT) or a BEGIN query, and closes with XID, a COMMIT query, or — for a MariaDB stand-alone group
/// (DDL) — the one event after the GTID. A ROLLBACK closes it with its changes dropped. Statements outside any
/// group become transactions of their own. Rows events of tables the decoder filtered out are left out.
/// </summary>
public sealed class BinlogTransactionAssembler
{
    private readonly List<RowsEvent> _rows = [];
    private readonly List<QueryEvent> _statements = [];
    private bool _inGroup;
    private bool _standalone;
    private MariaDbGtid? _gtid;
    private string? _mySqlGtid;

    /// <summary>Creates an assembler that starts at a position (for the GTID state and the file name).</summary>
    public BinlogTransactionAssembler(MariaDbGtidPosition? gtidPosition = null, string? fileName = null)
    {
        GtidPosition = gtidPosition ?? MariaDbGtidPosition.Empty;
        FileName = fileName ?? string.Empty;
    }

    /// <summary>The GTID state after the last completed transaction.</summary>
    public MariaDbGtidPosition GtidPosition { get; private set; }

    /// <summary>The binlog file the events come from (from ROTATE events).</summary>
    public string FileName { get; private set; }

    /// <summary>Whether a group is open (events seen, commit not yet).</summary>
    public bool InTransaction => _inGroup;

    /// <summary>Drops a partly received group (after a lost connection).</summary>
    public void Reset()
    {
        _inGroup = false;
        _standalone = false;
        _gtid = null;
        _mySqlGtid = null;
        _rows.Clear();
        _statements.Clear();
    }

    /// <summary>Feeds one event; returns the transaction it completes, if any.</summary>
    public BinlogTransaction? Add(BinlogEvent binlogEvent)
    {
        switch (binlogEvent)
        {
            case RotateEvent rotate:
                FileName = rotate.FileName;
                return null;
            case MariaDbGtidEvent gtid:
                Reset();
                _inGroup = true;
                _gtid = gtid.Gtid;
                _standalone = gtid.IsStandalone;
                return null;
            case MySqlGtidEvent mySqlGtid:
                Reset();
                _inGroup = true;
                _mySqlGtid = mySqlGtid.IsAnonymous ? null : mySqlGtid.Gtid;
                return null;
            case XidEvent xid:
                return _inGroup ? Complete(xid) : null;
            case QueryEvent query:
                return AddQuery(query);
            case RowsEvent rows:
                if (!_inGroup)
                {
                    _inGroup = true;
                }

                if (!rows.IsSkipped && rows.Table is { IsIncluded: true })
                {
                    _rows.Add(rows);
                }

                if (_standalone)
                {
                    return Complete(rows);
                }

                return null;
            default:
                return null;
        }
    }

    private BinlogTransaction? AddQuery(QueryEvent query)
    {
        if (query.IsBegin)
        {
            _inGroup = true;
            return null;
        }

        if (query.IsCommit)
        {
            return _inGroup ? Complete(query) : null;
        }

        if (query.IsRollback)
        {
            _rows.Clear();
            _statements.Clear();
            return _inGroup ? Complete(query) : null;
        }

        _statements.Add(query);
        return !_inGroup || _standalone ? Complete(query) : null;
    }

    private BinlogTransaction Complete(BinlogEvent last)
    {
        if (_gtid is { } gtid)
        {
            GtidPosition = GtidPosition.With(gtid);
        }

        var transaction = new BinlogTransaction(
            _gtid, _mySqlGtid, GtidPosition, new BinlogPosition(FileName, last.Header.LogPosition), last.Header.Time,
            _rows.ToArray(), _statements.ToArray());
        Reset();
        return transaction;
    }
}
