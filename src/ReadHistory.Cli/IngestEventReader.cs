using System.Globalization;
using System.Runtime.CompilerServices;
using ReadHistory.Api.V1;

namespace ReadHistory.Cli;

/// <summary>
/// Reads read events, one per line as <c>user,type,id[,read_at_ms]</c> (blank lines and lines starting
/// with <c>#</c> are skipped), and groups runs of the same user and type into Ingest messages of at most
/// <c>batchSize</c> items. Lines are read as the stream is sent, so a file of any size streams in
/// constant memory; a malformed line stops the stream with its line number (earlier batches may be written).
/// </summary>
internal sealed class IngestEventReader(TextReader input, string sourceName, int batchSize, string tenant)
{
    /// <summary>Counts of what was read and sent.</summary>
    public IngestProgress Progress { get; } = new();

    /// <summary>The Ingest messages, in file order.</summary>
    public async IAsyncEnumerable<IngestRequest> ReadBatchesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        MarkReadRequest? batch = null;
        var lineNumber = 0;
        while (await input.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            var text = line.AsSpan().Trim();
            if (text.IsEmpty || text[0] == '#')
            {
                continue;
            }

            var (user, type, item) = ParseLine(text, lineNumber);
            Progress.Events++;
            if (batch is not null && (batch.UserId != user || batch.ContentType != type || batch.Items.Count == batchSize))
            {
                Progress.Batches++;
                yield return new IngestRequest { Batch = batch };
                batch = null;
            }

            batch ??= new MarkReadRequest { UserId = user, ContentType = type, Tenant = tenant };
            batch.Items.Add(item);
        }

        if (batch is not null)
        {
            Progress.Batches++;
            yield return new IngestRequest { Batch = batch };
        }
    }

    private (ulong User, uint Type, ReadItem Item) ParseLine(ReadOnlySpan<char> text, int lineNumber)
    {
        Span<Range> fields = stackalloc Range[5];
        var count = text.Split(fields, ',', StringSplitOptions.TrimEntries);
        if (count is < 3 or > 4)
        {
            throw Bad(lineNumber, "expected user,type,id[,read_at_ms]");
        }

        var user = Number(text[fields[0]], 1, ulong.MaxValue, "user", lineNumber);
        var type = Number(text[fields[1]], 0, ushort.MaxValue, "type", lineNumber);
        var id = Number(text[fields[2]], 1, ulong.MaxValue, "content id", lineNumber);
        var readAt = count == 4 ? Number(text[fields[3]], 0, long.MaxValue, "read_at_ms", lineNumber) : 0;
        return (user, (uint)type, new ReadItem { ContentId = id, ReadAtMs = (long)readAt });
    }

    private ulong Number(ReadOnlySpan<char> field, ulong min, ulong max, string what, int lineNumber)
    {
        if (!ulong.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw Bad(lineNumber, $"{what} '{field}' is not a number in {min} .. {max}");
        }

        return value;
    }

    private CliUsageException Bad(int lineNumber, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{sourceName}:{lineNumber}: {problem}"));
}
