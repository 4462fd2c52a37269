using System.Globalization;

namespace ReadHistory.MySql.Replication.Rows;

/// <summary>
/// One column of a TABLE_MAP_EVENT: its binlog type and metadata, and what the optional metadata
/// (binlog_row_metadata=MINIMAL/FULL) adds: signedness, collation, name, primary key, ENUM/SET values.
/// </summary>
public sealed class TableColumn
{
    /// <summary>Collation id of binary strings (BINARY, VARBINARY, BLOB).</summary>
    public const int BinaryCollation = 63;

    private static readonly int[] DecimalDigitBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

    internal TableColumn(int index, BinlogColumnType type, ushort metadata, bool nullable)
    {
        Index = index;
        Type = type;
        Metadata = metadata;
        IsNullable = nullable;
        RealType = type;
        FixedLength = -1;
        switch (type)
        {
            case BinlogColumnType.Tiny:
            case BinlogColumnType.Year:
                FixedLength = 1;
                break;
            case BinlogColumnType.Short:
                FixedLength = 2;
                break;
            case BinlogColumnType.Int24:
            case BinlogColumnType.Date:
            case BinlogColumnType.NewDate:
            case BinlogColumnType.Time:
                FixedLength = 3;
                break;
            case BinlogColumnType.Long:
            case BinlogColumnType.Float:
            case BinlogColumnType.Timestamp:
                FixedLength = 4;
                break;
            case BinlogColumnType.LongLong:
            case BinlogColumnType.Double:
            case BinlogColumnType.DateTime:
                FixedLength = 8;
                break;
            case BinlogColumnType.Null:
                FixedLength = 0;
                break;
            case BinlogColumnType.Timestamp2:
                FractionalDigits = CheckFractionalDigits(metadata, index);
                FixedLength = 4 + ((metadata + 1) / 2);
                break;
            case BinlogColumnType.DateTime2:
                FractionalDigits = CheckFractionalDigits(metadata, index);
                FixedLength = 5 + ((metadata + 1) / 2);
                break;
            case BinlogColumnType.Time2:
                FractionalDigits = CheckFractionalDigits(metadata, index);
                FixedLength = 3 + ((metadata + 1) / 2);
                break;
            case BinlogColumnType.NewDecimal:
                Precision = metadata & 0xFF;
                Scale = metadata >> 8;
                if (Precision is 0 or > 65 || Scale > 30 || Scale > Precision)
                {
                    throw new BinlogFormatException(
                        $"TABLE_MAP_EVENT: expected DECIMAL precision 1..65 and scale 0..30 for column {index}, but got ({Precision},{Scale}).");
                }

                FixedLength = DecimalLength(Precision, Scale);
                break;
            case BinlogColumnType.Bit:
                FixedLength = (metadata >> 8) + ((metadata & 0xFF) > 0 ? 1 : 0);
                break;
            case BinlogColumnType.VarChar:
            case BinlogColumnType.VarString:
                MaxLength = metadata;
                LengthPrefixBytes = metadata < 256 ? 1 : 2;
                break;
            case BinlogColumnType.Blob:
            case BinlogColumnType.TinyBlob:
            case BinlogColumnType.MediumBlob:
            case BinlogColumnType.LongBlob:
            case BinlogColumnType.Geometry:
            case BinlogColumnType.Json:
                LengthPrefixBytes = metadata & 0xFF;
                if (LengthPrefixBytes is < 1 or > 4)
                {
                    throw new BinlogFormatException(
                        $"TABLE_MAP_EVENT: expected 1..4 length bytes for {type} column {index}, but the metadata says {LengthPrefixBytes}.");
                }

                break;
            case BinlogColumnType.String:
            case BinlogColumnType.Enum:
            case BinlogColumnType.Set:
            {
                var byte0 = metadata & 0xFF;
                var byte1 = metadata >> 8;
                int length;
                if (type == BinlogColumnType.String && byte0 != 0 && (byte0 & 0x30) != 0x30)
                {
                    // Long CHAR: the two high bits of the length hide in byte0 (MySQL bug #37426).
                    length = byte1 | (((byte0 & 0x30) ^ 0x30) << 4);
                    RealType = (BinlogColumnType)(byte0 | 0x30);
                }
                else
                {
                    length = byte1;
                    RealType = type == BinlogColumnType.String && byte0 != 0 ? (BinlogColumnType)byte0 : type;
                }

                MaxLength = length;
                if (RealType is BinlogColumnType.Enum or BinlogColumnType.Set)
                {
                    FixedLength = length;
                    if (RealType == BinlogColumnType.Enum ? length is < 1 or > 2 : length is < 1 or > 8)
                    {
                        throw new BinlogFormatException(
                            $"TABLE_MAP_EVENT: expected a pack length of 1..{(RealType == BinlogColumnType.Enum ? 2 : 8)} for {RealType} column {index}, but the metadata says {length}.");
                    }
                }
                else
                {
                    RealType = BinlogColumnType.String;
                    LengthPrefixBytes = length < 256 ? 1 : 2;
                }

                break;
            }

            default:
                throw new BinlogFormatException($"TABLE_MAP_EVENT: expected a column type this reader can decode for column {index}, but it is {(byte)type}.");
        }
    }

    /// <summary>Position of the column in the table (0-based).</summary>
    public int Index { get; }

    /// <summary>The type code in the TABLE_MAP_EVENT.</summary>
    public BinlogColumnType Type { get; }

    /// <summary>The type with STRING resolved to ENUM or SET when the metadata says so.</summary>
    public BinlogColumnType RealType { get; }

    /// <summary>The raw metadata (up to 2 bytes, the first byte in the low 8 bits).</summary>
    public ushort Metadata { get; }

    /// <summary>Whether the column accepts NULL.</summary>
    public bool IsNullable { get; }

    /// <summary>The column name, when the table map carries names (binlog_row_metadata=FULL).</summary>
    public string? Name { get; internal set; }

    /// <summary>
    /// Whether the column is UNSIGNED; meaningful only when <see cref="IsSignednessKnown"/>. Without the optional
    /// signedness metadata integers decode as signed.
    /// </summary>
    public bool IsUnsigned { get; internal set; }

    /// <summary>Whether the table map said if this numeric column is signed or not.</summary>
    public bool IsSignednessKnown { get; internal set; }

    /// <summary>The collation id of a character column, when the table map carries charsets (63 = binary).</summary>
    public int? Collation { get; internal set; }

    /// <summary>Whether the column is part of the primary key (when the table map carries it).</summary>
    public bool IsPrimaryKey { get; internal set; }

    /// <summary>The values of an ENUM or SET column, when the table map carries them (FULL).</summary>
    public IReadOnlyList<string>? EnumOrSetValues { get; internal set; }

    /// <summary>DECIMAL precision.</summary>
    public int Precision { get; }

    /// <summary>DECIMAL scale.</summary>
    public int Scale { get; }

    /// <summary>Fractional second digits of TIME2/DATETIME2/TIMESTAMP2 (0..6).</summary>
    public int FractionalDigits { get; }

    /// <summary>Maximum length in bytes of CHAR/VARCHAR (or the pack length of ENUM/SET).</summary>
    public int MaxLength { get; }

    /// <summary>Bytes of the value, or -1 when the value carries its length.</summary>
    internal int FixedLength { get; }

    /// <summary>Bytes of the length prefix of variable-length values (1..4).</summary>
    internal int LengthPrefixBytes { get; }

    /// <summary>Whether the column is numeric as the signedness metadata counts them.</summary>
    internal bool IsNumeric => Type is BinlogColumnType.Tiny or BinlogColumnType.Short or BinlogColumnType.Int24
        or BinlogColumnType.Long or BinlogColumnType.LongLong or BinlogColumnType.NewDecimal
        or BinlogColumnType.Float or BinlogColumnType.Double;

    /// <summary>Whether the column is a character column as the charset metadata counts them.</summary>
    internal bool IsCharacter => RealType is BinlogColumnType.String or BinlogColumnType.VarChar
        or BinlogColumnType.VarString or BinlogColumnType.Blob or BinlogColumnType.TinyBlob
        or BinlogColumnType.MediumBlob or BinlogColumnType.LongBlob;

    /// <summary>Whether values decode to text (not byte[]): a non-binary collation, or CHAR/VARCHAR when unknown.</summary>
    internal bool IsText => Collation is { } collation
        ? collation != BinaryCollation
        : RealType is BinlogColumnType.String or BinlogColumnType.VarChar or BinlogColumnType.VarString;

    private static int CheckFractionalDigits(ushort metadata, int index) => metadata <= 6
        ? metadata
        : throw new BinlogFormatException($"TABLE_MAP_EVENT: expected 0..6 fractional second digits for column {index}, but the metadata says {metadata}.");

    /// <summary>Bytes of a packed DECIMAL(precision, scale).</summary>
    internal static int DecimalLength(int precision, int scale)
    {
        var integral = precision - scale;
        return ((integral / 9) * 4) + DecimalDigitBytes[integral % 9] + ((scale / 9) * 4) + DecimalDigitBytes[scale % 9];
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name ?? "#" + Index} {RealType}{(IsSignednessKnown && IsUnsigned ? " UNSIGNED" : string.Empty)}");
}
