using System.Globalization;
using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>Checksum algorithm announced by FORMAT_DESCRIPTION (binlog_checksum).</summary>
public enum BinlogChecksumAlgorithm : byte
{
    /// <summary>No checksum follows the events.</summary>
    None = 0,

    /// <summary>A 4-byte CRC-32 (IEEE) of the event follows each event.</summary>
    Crc32 = 1,

    /// <summary>Not known (a server older than checksums, or before the FORMAT_DESCRIPTION arrived).</summary>
    Undefined = 255,
}

/// <summary>
/// FORMAT_DESCRIPTION_EVENT (type 15): first event of every binlog file; describes the layout of the events after it.
/// <code>
/// +----------------+----------------+------------------+---------------+---------------------+--------------+----------+
/// | binlog_version | server_version | create_timestamp | header_length | post_header_lengths | checksum_alg | checksum |
/// |    2 bytes     | 50 bytes, NUL- |     4 bytes      |    1 byte     | 1 byte per event    |   1 byte     | 4 bytes  |
/// |   (always 4)   |    padded      |                  |   (19)        | type, from type 1   |  (5.6.1+ /   | (always, |
/// |                |                |                  |               |                     |   MariaDB)   |  even 0) |
/// +----------------+----------------+------------------+---------------+---------------------+--------------+----------+
/// </code>
/// Checksum-aware servers (MySQL 5.6.1+, MariaDB 5.3+) always end the event with the algorithm byte and a 4-byte
/// checksum room, whatever binlog_checksum is. Spec:
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Format__description__event.html
/// </summary>
public sealed class FormatDescriptionEvent : BinlogEvent
{
    private const int ServerVersionLength = 50;
    private readonly byte[] _postHeaderLengths;

    private FormatDescriptionEvent(
        BinlogEventHeader header, ushort binlogVersion, string serverVersion, uint createTimestamp, byte headerLength,
        byte[] postHeaderLengths, BinlogChecksumAlgorithm checksum)
        : base(header)
    {
        BinlogVersion = binlogVersion;
        ServerVersion = serverVersion;
        CreateTimestamp = createTimestamp;
        HeaderLength = headerLength;
        _postHeaderLengths = postHeaderLengths;
        ChecksumAlgorithm = checksum;
    }

    /// <summary>The binlog format version (4).</summary>
    public ushort BinlogVersion { get; }

    /// <summary>The server's version string, e.g. "10.11.6-MariaDB-log".</summary>
    public string ServerVersion { get; }

    /// <summary>Whether the server is MariaDB (by its version string).</summary>
    public bool IsMariaDb => ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    /// <summary>Seconds since the epoch when the binlog file was created (0 after a rotate).</summary>
    public uint CreateTimestamp { get; }

    /// <summary>Length of the common header (19).</summary>
    public byte HeaderLength { get; }

    /// <summary>The checksum algorithm of the events that follow.</summary>
    public BinlogChecksumAlgorithm ChecksumAlgorithm { get; }

    /// <summary>The post-header length of an event type, or -1 when the description does not list that type.</summary>
    public int PostHeaderLength(BinlogEventType type)
    {
        var index = (int)type - 1;
        return index >= 0 && index < _postHeaderLengths.Length ? _postHeaderLengths[index] : -1;
    }

    /// <summary>
    /// Parses the event from its bytes after the common header, the trailing algorithm byte and checksum included.
    /// </summary>
    public static FormatDescriptionEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new BinlogSpanReader(body, "FORMAT_DESCRIPTION_EVENT");
        var binlogVersion = reader.ReadUInt16("binlog_version");
        if (binlogVersion != 4)
        {
            throw new BinlogFormatException($"FORMAT_DESCRIPTION_EVENT: expected binlog_version 4, but it is {binlogVersion}.");
        }

        var versionBytes = reader.ReadBytes(ServerVersionLength, "server_version");
        var end = versionBytes.IndexOf((byte)0);
        var serverVersion = System.Text.Encoding.ASCII.GetString(end < 0 ? versionBytes : versionBytes[..end]);
        var createTimestamp = reader.ReadUInt32("create_timestamp");
        var headerLength = reader.ReadByte("header_length");
        if (headerLength < BinlogEventHeader.Size)
        {
            throw new BinlogFormatException($"FORMAT_DESCRIPTION_EVENT: expected header_length of at least 19, but it is {headerLength}.");
        }

        var checksum = BinlogChecksumAlgorithm.Undefined;
        var lengths = reader.Rest;
        if (IsChecksumAware(serverVersion))
        {
            if (lengths.Length < 5)
            {
                throw new BinlogFormatException(
                    $"FORMAT_DESCRIPTION_EVENT: expected post-header lengths, a checksum algorithm byte and 4 checksum bytes, but only {lengths.Length} byte(s) remain.");
            }

            checksum = lengths[^5] switch
            {
                0 => BinlogChecksumAlgorithm.None,
                1 => BinlogChecksumAlgorithm.Crc32,
                var other => throw new BinlogFormatException(
                    $"FORMAT_DESCRIPTION_EVENT: expected checksum algorithm 0 (OFF) or 1 (CRC32), but it is {other}."),
            };
            lengths = lengths[..^5];
        }

        return new FormatDescriptionEvent(header, binlogVersion, serverVersion, createTimestamp, headerLength, lengths.ToArray(), checksum);
    }

    /// <summary>Whether a server of this version appends the checksum algorithm to FORMAT_DESCRIPTION (MySQL 5.6.1+, MariaDB 5.3+).</summary>
    internal static bool IsChecksumAware(string serverVersion)
    {
        var numbers = new int[3];
        var part = 0;
        foreach (var c in serverVersion)
        {
            if (c is >= '0' and <= '9')
            {
                numbers[part] = Math.Min((numbers[part] * 10) + (c - '0'), 100_000);
            }
            else if (c == '.' && part < 2)
            {
                part++;
            }
            else
            {
                break;
            }
        }

        var version = (numbers[0] * 1_000_000L) + (numbers[1] * 1_000L) + numbers[2];
        return serverVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase)
            ? version >= 5_003_000
            : version >= 5_006_001;
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"FORMAT_DESCRIPTION {ServerVersion} (binlog v{BinlogVersion}, checksum {ChecksumAlgorithm})");
}
