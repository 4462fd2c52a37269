using System.Buffers.Binary;
using ReadHistory.MySql.Replication.Events;

namespace ReadHistory.MySql.Replication;

/// <summary>
/// Reads a binlog file (binlog.000001...): the 4-byte magic 0xFE 'b' 'i' 'n', then events back to back, each
/// sized by its header. The same events a replication stream carries; useful for tests and tooling.
/// </summary>
public static class BinlogFileReader
{
    /// <summary>The magic at the start of every binlog file.</summary>
    public static ReadOnlySpan<byte> Magic => [0xFE, (byte)'b', (byte)'i', (byte)'n'];

    /// <summary>Reads a whole file and decodes its events.</summary>
    public static async Task<IReadOnlyList<BinlogEvent>> ReadFileAsync(string path, BinlogEventDecoder? decoder = null, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return ReadEvents(bytes, decoder).ToList();
    }

    /// <summary>
    /// Decodes the events of a binlog file's bytes (magic included). Rows events reference <paramref name="file"/>.
    /// A partial event at the end (a file still being written) stops the enumeration without error when
    /// <paramref name="allowPartialTail"/> is true.
    /// </summary>
    public static IEnumerable<BinlogEvent> ReadEvents(ReadOnlyMemory<byte> file, BinlogEventDecoder? decoder = null, bool allowPartialTail = false)
    {
        decoder ??= new BinlogEventDecoder();
        foreach (var range in SplitEvents(file, allowPartialTail))
        {
            yield return decoder.Decode(file[range]);
        }
    }

    /// <summary>The byte ranges of the events of a binlog file's bytes (magic included), without decoding them.</summary>
    public static IReadOnlyList<Range> SplitEvents(ReadOnlyMemory<byte> file, bool allowPartialTail = false)
    {
        var span = file.Span;
        if (span.Length < 4 || !span[..4].SequenceEqual(Magic))
        {
            throw new BinlogFormatException("binlog file: expected the magic 0xFE 'b' 'i' 'n' at the start, but it is not there.");
        }

        var ranges = new List<Range>();
        var position = 4;
        while (position < span.Length)
        {
            if (span.Length - position < BinlogEventHeader.Size)
            {
                if (allowPartialTail)
                {
                    break;
                }

                throw new BinlogFormatException(
                    $"binlog file: expected a 19-byte event header at byte {position}, but only {span.Length - position} byte(s) remain.");
            }

            var size = BinaryPrimitives.ReadUInt32LittleEndian(span[(position + 9)..]);
            if (size < BinlogEventHeader.Size || size > (uint)(span.Length - position))
            {
                if (allowPartialTail && size >= BinlogEventHeader.Size)
                {
                    break;
                }

                throw new BinlogFormatException(
                    $"binlog file: the event at byte {position} says it has {size} bytes, but {span.Length - position} remain (at least 19 expected).");
            }

            ranges.Add(new Range(position, position + (int)size));
            position += (int)size;
        }

        return ranges;
    }
}
