using System.Buffers.Binary;
using System.Text;
using ReadHistory.Core.Hashing;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// One stream entry: the changes of one (pool, slot) from one or more committed transactions, with the epoch they
/// belong to and the source position they end at. Little-endian; CRC32C over everything before the checksum.
/// <code>
/// offset      size   field
/// 0           1      version (1)
/// 1           1      flags (0; readers reject unknown bits)
/// 2           8      epoch (u64, never 0)
/// 10          8      commit time of the first transaction, Unix ms (i64; estimated, see CdcPublisher)
/// 18          2      P = length of the source position (u16, at most 1024)
/// 20          P      source position, ASCII: MariaDB GTID position "0-1-42,1-2-7" or "binlog.000003:4711"
/// 20+P        4      N = change count (u32, at most 1,000,000)
/// 24+P        19×N   changes: user_id u64 | content_type u16 | content_id u64 | kind u8 (see StreamChange)
/// 24+P+19N    4      CRC32C (Castagnoli) of bytes [0, 24+P+19N)
/// </code>
/// </summary>
internal sealed class ChangeBatch
{
    /// <summary>The layout version written and accepted.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>Longest source position accepted.</summary>
    public const int MaxPositionLength = 1024;

    /// <summary>Most changes accepted in one batch.</summary>
    public const int MaxChanges = 1_000_000;

    /// <summary>Bytes before the position.</summary>
    public const int FixedHeaderSize = 20;

    private const int CountSize = 4;
    private const int ChecksumSize = 4;

    private readonly ReadOnlyMemory<byte> _changes;

    private ChangeBatch(ulong epoch, long commitTimeMs, string sourcePosition, ReadOnlyMemory<byte> changes, int count)
    {
        Epoch = epoch;
        CommitTimeMs = commitTimeMs;
        SourcePosition = sourcePosition;
        _changes = changes;
        Count = count;
    }

    /// <summary>The epoch the batch belongs to.</summary>
    public ulong Epoch { get; }

    /// <summary>Commit time of the batch's first transaction, Unix ms (estimated by the publisher: the binlog stamps whole seconds).</summary>
    public long CommitTimeMs { get; }

    /// <summary>The source position after the batch's last transaction.</summary>
    public string SourcePosition { get; }

    /// <summary>Number of changes.</summary>
    public int Count { get; }

    /// <summary>Change <paramref name="index"/> (0 .. <see cref="Count"/> - 1).</summary>
    public StreamChange this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return StreamChange.Read(_changes.Span.Slice(index * StreamChange.Size, StreamChange.Size));
        }
    }

    /// <summary>The encoded size of a batch with a position of <paramref name="positionLength"/> ASCII characters and <paramref name="count"/> changes.</summary>
    public static int GetSize(int positionLength, int count) => FixedHeaderSize + positionLength + CountSize + (count * StreamChange.Size) + ChecksumSize;

    /// <summary>Encodes a batch of <paramref name="changes"/> into a new array.</summary>
    public static byte[] Create(ulong epoch, long commitTimeMs, string sourcePosition, ReadOnlySpan<StreamChange> changes)
    {
        var encoded = new byte[changes.Length * StreamChange.Size];
        for (var i = 0; i < changes.Length; i++)
        {
            changes[i].Write(encoded.AsSpan(i * StreamChange.Size));
        }

        return CreateFromEncoded(epoch, commitTimeMs, sourcePosition, encoded);
    }

    /// <summary>Encodes a batch whose changes are already encoded back to back (<see cref="StreamChange.Write"/>), into a new array.</summary>
    public static byte[] CreateFromEncoded(ulong epoch, long commitTimeMs, string sourcePosition, ReadOnlySpan<byte> encodedChanges)
    {
        ArgumentNullException.ThrowIfNull(sourcePosition);
        if (epoch == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), "the epoch is never 0");
        }

        if (sourcePosition.Length > MaxPositionLength || !Ascii.IsValid(sourcePosition))
        {
            throw new ArgumentException($"the source position must be at most {MaxPositionLength} ASCII characters", nameof(sourcePosition));
        }

        if (encodedChanges.Length % StreamChange.Size != 0 || encodedChanges.Length / StreamChange.Size > MaxChanges)
        {
            throw new ArgumentException($"encoded changes must be a multiple of {StreamChange.Size} bytes, at most {MaxChanges} changes", nameof(encodedChanges));
        }

        var count = encodedChanges.Length / StreamChange.Size;
        var bytes = new byte[GetSize(sourcePosition.Length, count)];
        var span = bytes.AsSpan();
        span[0] = CurrentVersion;
        span[1] = 0;
        BinaryPrimitives.WriteUInt64LittleEndian(span[2..], epoch);
        BinaryPrimitives.WriteInt64LittleEndian(span[10..], commitTimeMs);
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], (ushort)sourcePosition.Length);
        var offset = FixedHeaderSize + Encoding.ASCII.GetBytes(sourcePosition, span[FixedHeaderSize..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], (uint)count);
        offset += CountSize;
        encodedChanges.CopyTo(span[offset..]);
        offset += encodedChanges.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], Crc32C.Compute(span[..offset]));
        return bytes;
    }

    /// <summary>
    /// Parses and validates a batch. The changes are not copied: the batch keeps a reference to <paramref name="data"/>.
    /// Throws <see cref="ChangeBatchException"/> saying what was expected and what arrived.
    /// </summary>
    public static ChangeBatch Parse(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < FixedHeaderSize)
        {
            throw new ChangeBatchException($"change batch truncated: expected at least {FixedHeaderSize} header bytes, got {span.Length}");
        }

        if (span[0] != CurrentVersion)
        {
            throw new ChangeBatchException($"change batch version {span[0]} is not supported (expected {CurrentVersion})");
        }

        if (span[1] != 0)
        {
            throw new ChangeBatchException($"change batch flags 0x{span[1]:x2} carry unknown bits (expected 0)");
        }

        var epoch = BinaryPrimitives.ReadUInt64LittleEndian(span[2..]);
        var commitTimeMs = BinaryPrimitives.ReadInt64LittleEndian(span[10..]);
        int positionLength = BinaryPrimitives.ReadUInt16LittleEndian(span[18..]);
        if (positionLength > MaxPositionLength)
        {
            throw new ChangeBatchException($"change batch source position of {positionLength} bytes exceeds the limit of {MaxPositionLength}");
        }

        if (span.Length < FixedHeaderSize + positionLength + CountSize)
        {
            throw new ChangeBatchException($"change batch truncated: expected {FixedHeaderSize + positionLength + CountSize} bytes up to the change count, got {span.Length}");
        }

        var countOffset = FixedHeaderSize + positionLength;
        var count = BinaryPrimitives.ReadUInt32LittleEndian(span[countOffset..]);
        if (count > MaxChanges)
        {
            throw new ChangeBatchException($"change batch count {count} exceeds the limit of {MaxChanges}");
        }

        var expected = GetSize(positionLength, (int)count);
        if (span.Length != expected)
        {
            throw new ChangeBatchException(span.Length < expected
                ? $"change batch truncated: {count} changes need {expected} bytes, got {span.Length}"
                : $"change batch has {span.Length - expected} trailing bytes after {count} changes ({expected} bytes expected)");
        }

        var checksumOffset = expected - ChecksumSize;
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(span[checksumOffset..]);
        var computed = Crc32C.Compute(span[..checksumOffset]);
        if (stored != computed)
        {
            throw new ChangeBatchException($"change batch checksum mismatch: stored 0x{stored:x8}, computed 0x{computed:x8}");
        }

        if (epoch == 0)
        {
            throw new ChangeBatchException("change batch epoch is 0 (never written)");
        }

        var positionBytes = span.Slice(FixedHeaderSize, positionLength);
        if (!Ascii.IsValid(positionBytes))
        {
            throw new ChangeBatchException("change batch source position is not ASCII");
        }

        var changes = data.Slice(countOffset + CountSize, (int)count * StreamChange.Size);
        var changeSpan = changes.Span;
        for (var i = 0; i < (int)count; i++)
        {
            var kind = changeSpan[(i * StreamChange.Size) + 18];
            if (kind is < (byte)StreamChangeKind.Upsert or > (byte)StreamChangeKind.ForgetUser)
            {
                throw new ChangeBatchException($"change {i} of the batch has kind {kind} (expected 1 upsert, 2 delete or 3 forget-user)");
            }
        }

        return new ChangeBatch(epoch, commitTimeMs, Encoding.ASCII.GetString(positionBytes), changes, (int)count);
    }

    /// <summary>Appends every change to <paramref name="destination"/>.</summary>
    public void CopyTo(List<StreamChange> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var span = _changes.Span;
        for (var i = 0; i < Count; i++)
        {
            destination.Add(StreamChange.Read(span.Slice(i * StreamChange.Size, StreamChange.Size)));
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"batch epoch {Epoch:x16} at {SourcePosition}: {Count} change(s)";
}
