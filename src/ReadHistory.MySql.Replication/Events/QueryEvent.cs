using System.Text;
using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// QUERY_EVENT (type 2) and MariaDB's QUERY_COMPRESSED_EVENT (165): a statement — DDL (CREATE, ALTER, TRUNCATE,
/// DROP), BEGIN, and COMMIT/ROLLBACK closing groups of non-transactional engines.
/// <code>
/// post-header (13 bytes):
/// +-----------+-----------+------------+------------+-----------------+
/// | thread_id | exec_time | schema_len | error_code | status_vars_len |
/// |  4 bytes  |  4 bytes  |   1 byte   |  2 bytes   |    2 bytes      |
/// +-----------+-----------+------------+------------+-----------------+
/// body:
/// +-------------------------+-----------------+------+---------------------------------+
/// | status_vars             | schema          | 0x00 | query text (rest of the event;  |
/// | status_vars_len bytes   | schema_len bytes|      | zlib-compressed when type 165)  |
/// +-------------------------+-----------------+------+---------------------------------+
/// </code>
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html
/// </summary>
public sealed class QueryEvent : BinlogEvent
{
    private QueryEvent(BinlogEventHeader header, uint threadId, uint executionTime, ushort errorCode, string schema, string sql)
        : base(header)
    {
        ThreadId = threadId;
        ExecutionTime = executionTime;
        ErrorCode = errorCode;
        Schema = schema;
        Sql = sql;
    }

    /// <summary>The id of the connection that ran the statement.</summary>
    public uint ThreadId { get; }

    /// <summary>Seconds the statement took on the source.</summary>
    public uint ExecutionTime { get; }

    /// <summary>The error the statement ended with on the source (0 normally).</summary>
    public ushort ErrorCode { get; }

    /// <summary>The default schema when the statement ran (may be empty).</summary>
    public string Schema { get; }

    /// <summary>The statement text.</summary>
    public string Sql { get; }

    /// <summary>Whether this is the BEGIN that opens a transaction.</summary>
    public bool IsBegin => Sql.Equals("BEGIN", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether this is a COMMIT closing an event group (non-transactional engines, XA).</summary>
    public bool IsCommit =>
        Sql.Equals("COMMIT", StringComparison.OrdinalIgnoreCase) || Sql.StartsWith("XA COMMIT", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether this is a ROLLBACK closing an event group.</summary>
    public bool IsRollback =>
        Sql.Equals("ROLLBACK", StringComparison.OrdinalIgnoreCase) || Sql.StartsWith("XA ROLLBACK", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static QueryEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body, bool compressed = false)
    {
        var context = compressed ? "QUERY_COMPRESSED_EVENT" : "QUERY_EVENT";
        var reader = new BinlogSpanReader(body, context);
        var threadId = reader.ReadUInt32("thread_id");
        var executionTime = reader.ReadUInt32("exec_time");
        var schemaLength = reader.ReadByte("schema_len");
        var errorCode = reader.ReadUInt16("error_code");
        var statusLength = reader.ReadUInt16("status_vars_len");
        reader.Skip(statusLength, "status_vars");
        var schema = reader.ReadString(schemaLength, "schema");
        reader.Expect(0, "the NUL after the schema");
        var text = reader.Rest;
        var sql = compressed
            ? Encoding.UTF8.GetString(MariaDbCompression.Decompress(text, context))
            : Encoding.UTF8.GetString(text);
        return new QueryEvent(header, threadId, executionTime, errorCode, schema, sql);
    }

    /// <inheritdoc />
    public override string ToString() => $"QUERY [{Schema}] {Sql}";
}
