namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// Binlog event type codes (MySQL <c>Log_event_type</c> and MariaDB's additions from 160 up).
/// See https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html and
/// https://mariadb.com/kb/en/replication-protocol/.
/// </summary>
public enum BinlogEventType : byte
{
    /// <summary>Not a real event.</summary>
    Unknown = 0,

    /// <summary>START_EVENT_V3 (binlog v3, pre-5.0).</summary>
    StartV3 = 1,

    /// <summary>QUERY_EVENT: a statement (DDL, BEGIN, COMMIT in non-transactional groups).</summary>
    Query = 2,

    /// <summary>STOP_EVENT: the server stopped; the binlog file ends.</summary>
    Stop = 3,

    /// <summary>ROTATE_EVENT: the next events come from another binlog file.</summary>
    Rotate = 4,

    /// <summary>INTVAR_EVENT (statement-based auto-increment values).</summary>
    Intvar = 5,

    /// <summary>RAND_EVENT (statement-based).</summary>
    Rand = 13,

    /// <summary>USER_VAR_EVENT (statement-based).</summary>
    UserVar = 14,

    /// <summary>FORMAT_DESCRIPTION_EVENT: binlog v4 layout, server version, checksum algorithm.</summary>
    FormatDescription = 15,

    /// <summary>XID_EVENT: commit of an XA-capable (transactional) engine's transaction.</summary>
    Xid = 16,

    /// <summary>TABLE_MAP_EVENT: maps a table id to a table definition for the rows events that follow.</summary>
    TableMap = 19,

    /// <summary>WRITE_ROWS_EVENT_V1 (MySQL 5.1–5.5; MariaDB uses it still).</summary>
    WriteRowsV1 = 23,

    /// <summary>UPDATE_ROWS_EVENT_V1.</summary>
    UpdateRowsV1 = 24,

    /// <summary>DELETE_ROWS_EVENT_V1.</summary>
    DeleteRowsV1 = 25,

    /// <summary>INCIDENT_EVENT.</summary>
    Incident = 26,

    /// <summary>HEARTBEAT_LOG_EVENT: sent by the server when idle (never written to a file).</summary>
    Heartbeat = 27,

    /// <summary>IGNORABLE_LOG_EVENT.</summary>
    Ignorable = 28,

    /// <summary>ROWS_QUERY_LOG_EVENT (MySQL's statement text for rows events).</summary>
    RowsQuery = 29,

    /// <summary>WRITE_ROWS_EVENT (v2, MySQL 5.6+).</summary>
    WriteRowsV2 = 30,

    /// <summary>UPDATE_ROWS_EVENT (v2).</summary>
    UpdateRowsV2 = 31,

    /// <summary>DELETE_ROWS_EVENT (v2).</summary>
    DeleteRowsV2 = 32,

    /// <summary>GTID_LOG_EVENT (MySQL: uuid:gno).</summary>
    MySqlGtid = 33,

    /// <summary>ANONYMOUS_GTID_LOG_EVENT (MySQL with gtid_mode=OFF).</summary>
    MySqlAnonymousGtid = 34,

    /// <summary>PREVIOUS_GTIDS_LOG_EVENT (MySQL).</summary>
    MySqlPreviousGtids = 35,

    /// <summary>TRANSACTION_CONTEXT_EVENT (MySQL group replication).</summary>
    TransactionContext = 36,

    /// <summary>VIEW_CHANGE_EVENT (MySQL group replication).</summary>
    ViewChange = 37,

    /// <summary>XA_PREPARE_LOG_EVENT (MySQL).</summary>
    XaPrepare = 38,

    /// <summary>PARTIAL_UPDATE_ROWS_EVENT (MySQL JSON partial updates).</summary>
    PartialUpdateRows = 39,

    /// <summary>TRANSACTION_PAYLOAD_EVENT (MySQL compressed transaction).</summary>
    TransactionPayload = 40,

    /// <summary>HEARTBEAT_LOG_EVENT_V2 (MySQL 8.0.26+, 64-bit position).</summary>
    HeartbeatV2 = 41,

    /// <summary>ANNOTATE_ROWS_EVENT (MariaDB: the statement behind the rows events that follow).</summary>
    AnnotateRows = 160,

    /// <summary>BINLOG_CHECKPOINT_EVENT (MariaDB).</summary>
    BinlogCheckpoint = 161,

    /// <summary>GTID_EVENT (MariaDB: domain-server-seq; starts an event group).</summary>
    MariaDbGtid = 162,

    /// <summary>GTID_LIST_EVENT (MariaDB: the GTID state at the start of a binlog file).</summary>
    MariaDbGtidList = 163,

    /// <summary>START_ENCRYPTION_EVENT (MariaDB).</summary>
    StartEncryption = 164,

    /// <summary>QUERY_COMPRESSED_EVENT (MariaDB, log_bin_compress).</summary>
    QueryCompressed = 165,

    /// <summary>WRITE_ROWS_COMPRESSED_EVENT_V1 (MariaDB).</summary>
    WriteRowsCompressedV1 = 166,

    /// <summary>UPDATE_ROWS_COMPRESSED_EVENT_V1 (MariaDB).</summary>
    UpdateRowsCompressedV1 = 167,

    /// <summary>DELETE_ROWS_COMPRESSED_EVENT_V1 (MariaDB).</summary>
    DeleteRowsCompressedV1 = 168,

    /// <summary>WRITE_ROWS_COMPRESSED_EVENT (MariaDB, v2 layout).</summary>
    WriteRowsCompressed = 169,

    /// <summary>UPDATE_ROWS_COMPRESSED_EVENT (MariaDB, v2 layout).</summary>
    UpdateRowsCompressed = 170,

    /// <summary>DELETE_ROWS_COMPRESSED_EVENT (MariaDB, v2 layout).</summary>
    DeleteRowsCompressed = 171,
}
