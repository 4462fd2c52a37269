namespace ReadHistory.MySql.Protocol;

/// <summary>Capability flags of the client/server handshake.</summary>
[Flags]
internal enum ProtocolCapabilities : uint
{
    None = 0,
    LongPassword = 1,
    FoundRows = 2,
    LongFlag = 4,
    ConnectWithDatabase = 8,
    NoSchema = 0x10,
    Compress = 0x20,
    Odbc = 0x40,
    LocalFiles = 0x80,
    IgnoreSpace = 0x100,
    Protocol41 = 0x200,
    Interactive = 0x400,
    Ssl = 0x800,
    IgnoreSigpipe = 0x1000,
    Transactions = 0x2000,
    Reserved = 0x4000,
    SecureConnection = 0x8000,
    MultiStatements = 0x1_0000,
    MultiResults = 0x2_0000,
    PreparedStatementMultiResults = 0x4_0000,
    PluginAuth = 0x8_0000,
    ConnectionAttributes = 0x10_0000,
    PluginAuthLengthEncodedClientData = 0x20_0000,
    CanHandleExpiredPasswords = 0x40_0000,
    SessionTrack = 0x80_0000,
    DeprecateEof = 0x100_0000,
}

/// <summary>Server status flags (OK and EOF packets).</summary>
[Flags]
internal enum ServerStatus : ushort
{
    None = 0,
    InTransaction = 1,
    AutoCommit = 2,
    MoreResultsExist = 8,
    NoGoodIndexUsed = 0x10,
    NoIndexUsed = 0x20,
    CursorExists = 0x40,
    LastRowSent = 0x80,
    DatabaseDropped = 0x100,
    NoBackslashEscapes = 0x200,
    MetadataChanged = 0x400,
    QueryWasSlow = 0x800,
    PreparedStatementOutParameters = 0x1000,
    InReadOnlyTransaction = 0x2000,
    SessionStateChanged = 0x4000,
}

/// <summary>Command bytes (first byte of a command payload).</summary>
internal static class CommandKind
{
    public const byte Quit = 0x01;
    public const byte InitDatabase = 0x02;
    public const byte Query = 0x03;
    public const byte Ping = 0x0E;
    public const byte StatementPrepare = 0x16;
    public const byte StatementExecute = 0x17;
    public const byte StatementSendLongData = 0x18;
    public const byte StatementClose = 0x19;
    public const byte StatementReset = 0x1A;
    public const byte ResetConnection = 0x1F;
}

/// <summary>Column types of the protocol.</summary>
internal enum ColumnType : byte
{
    Decimal = 0,
    Tiny = 1,
    Short = 2,
    Long = 3,
    Float = 4,
    Double = 5,
    Null = 6,
    Timestamp = 7,
    LongLong = 8,
    Int24 = 9,
    Date = 10,
    Time = 11,
    DateTime = 12,
    Year = 13,
    NewDate = 14,
    VarChar = 15,
    Bit = 16,
    Timestamp2 = 17,
    DateTime2 = 18,
    Time2 = 19,
    Json = 245,
    NewDecimal = 246,
    Enum = 247,
    Set = 248,
    TinyBlob = 249,
    MediumBlob = 250,
    LongBlob = 251,
    Blob = 252,
    VarString = 253,
    String = 254,
    Geometry = 255,
}

/// <summary>Column definition flags.</summary>
[Flags]
internal enum ColumnFlags : ushort
{
    None = 0,
    NotNull = 1,
    PrimaryKey = 2,
    UniqueKey = 4,
    MultipleKey = 8,
    Blob = 0x10,
    Unsigned = 0x20,
    ZeroFill = 0x40,
    Binary = 0x80,
    Enum = 0x100,
    AutoIncrement = 0x200,
    Timestamp = 0x400,
    Set = 0x800,
}
