namespace ReadHistory.MySql.Replication.Rows;

/// <summary>Column type codes as they appear in TABLE_MAP_EVENT (MySQL <c>enum_field_types</c>).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names mirror MySQL's MYSQL_TYPE_* codes.")]
public enum BinlogColumnType : byte
{
    /// <summary>Old DECIMAL (pre-5.0; not produced by current servers).</summary>
    Decimal = 0,

    /// <summary>TINYINT, 1 byte.</summary>
    Tiny = 1,

    /// <summary>SMALLINT, 2 bytes.</summary>
    Short = 2,

    /// <summary>INT, 4 bytes.</summary>
    Long = 3,

    /// <summary>FLOAT, 4 bytes.</summary>
    Float = 4,

    /// <summary>DOUBLE, 8 bytes.</summary>
    Double = 5,

    /// <summary>NULL type (no data).</summary>
    Null = 6,

    /// <summary>Old TIMESTAMP: 4 bytes, seconds since the epoch.</summary>
    Timestamp = 7,

    /// <summary>BIGINT, 8 bytes.</summary>
    LongLong = 8,

    /// <summary>MEDIUMINT, 3 bytes.</summary>
    Int24 = 9,

    /// <summary>DATE, 3 bytes.</summary>
    Date = 10,

    /// <summary>Old TIME: 3 bytes, HHMMSS as an integer.</summary>
    Time = 11,

    /// <summary>Old DATETIME: 8 bytes, YYYYMMDDhhmmss as an integer.</summary>
    DateTime = 12,

    /// <summary>YEAR, 1 byte.</summary>
    Year = 13,

    /// <summary>NEWDATE (internal; 3 bytes like DATE).</summary>
    NewDate = 14,

    /// <summary>VARCHAR / VARBINARY.</summary>
    VarChar = 15,

    /// <summary>BIT(n).</summary>
    Bit = 16,

    /// <summary>TIMESTAMP with fractional seconds (MySQL 5.6 format).</summary>
    Timestamp2 = 17,

    /// <summary>DATETIME with fractional seconds (MySQL 5.6 format).</summary>
    DateTime2 = 18,

    /// <summary>TIME with fractional seconds (MySQL 5.6 format).</summary>
    Time2 = 19,

    /// <summary>JSON (MySQL binary JSON; MariaDB's JSON is LONGTEXT).</summary>
    Json = 245,

    /// <summary>DECIMAL / NUMERIC, packed.</summary>
    NewDecimal = 246,

    /// <summary>ENUM (normally sent as STRING with the real type in the metadata).</summary>
    Enum = 247,

    /// <summary>SET (normally sent as STRING with the real type in the metadata).</summary>
    Set = 248,

    /// <summary>TINYBLOB / TINYTEXT.</summary>
    TinyBlob = 249,

    /// <summary>MEDIUMBLOB / MEDIUMTEXT.</summary>
    MediumBlob = 250,

    /// <summary>LONGBLOB / LONGTEXT.</summary>
    LongBlob = 251,

    /// <summary>BLOB / TEXT of any size (the metadata gives the length bytes).</summary>
    Blob = 252,

    /// <summary>VAR_STRING.</summary>
    VarString = 253,

    /// <summary>CHAR / BINARY (and ENUM / SET, told apart by the metadata).</summary>
    String = 254,

    /// <summary>GEOMETRY.</summary>
    Geometry = 255,
}
