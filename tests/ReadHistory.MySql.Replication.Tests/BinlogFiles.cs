using System.Globalization;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.MySql.Replication.Rows;
using ReadHistory.TestSupport;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>Reads the binlog files of a test server from its data directory.</summary>
internal static class BinlogFiles
{
    /// <summary>Flushes the binary logs (closing the current file) and returns the closed files, oldest first.</summary>
    public static async Task<IReadOnlyList<string>> FlushAndListAsync(MariaDbServer server)
    {
        await server.SqlAsync("FLUSH BINARY LOGS;").DefaultTimeout();
        var files = Directory.GetFiles(server.DataDirectory, "binlog.*")
            .Where(f => !f.EndsWith(".index", StringComparison.Ordinal) && !f.EndsWith(".state", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        files.RemoveAt(files.Count - 1); // the new, active file
        return files;
    }

    /// <summary>The name of the binlog file being written now.</summary>
    public static async Task<string> CurrentFileAsync(MariaDbServer server)
    {
        var status = await server.SqlAsync("SHOW MASTER STATUS;").DefaultTimeout();
        return status.Split('\t')[0].Trim();
    }

    /// <summary>
    /// Flushes and decodes every event of the files from <paramref name="fromFile"/> on (all files when null).
    /// </summary>
    public static async Task<List<BinlogEvent>> ReadEventsAsync(MariaDbServer server, string? fromFile = null, Func<string, string, bool>? filter = null)
    {
        var events = new List<BinlogEvent>();
        foreach (var file in await FlushAndListAsync(server))
        {
            if (fromFile is not null && string.CompareOrdinal(Path.GetFileName(file), fromFile) < 0)
            {
                continue;
            }

            var bytes = await File.ReadAllBytesAsync(file).DefaultTimeout();
            events.AddRange(BinlogFileReader.ReadEvents(bytes, new BinlogEventDecoder(tableFilter: filter)));
        }

        return events;
    }

    /// <summary>The bytes of the closed files from <paramref name="fromFile"/> on.</summary>
    public static async Task<List<byte[]>> ReadBytesAsync(MariaDbServer server, string fromFile)
    {
        var list = new List<byte[]>();
        foreach (var file in await FlushAndListAsync(server))
        {
            if (string.CompareOrdinal(Path.GetFileName(file), fromFile) >= 0)
            {
                list.Add(await File.ReadAllBytesAsync(file).DefaultTimeout());
            }
        }

        return list;
    }

    /// <summary>Decoded rows of one table, in binlog order.</summary>
    public static List<RowChange> RowsOf(IEnumerable<BinlogEvent> events, string schema, string table) =>
        events.OfType<RowsEvent>()
            .Where(e => e.Table is { } t && t.Schema == schema && t.Table == table)
            .SelectMany(e => e.DecodeRows())
            .ToList();

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
