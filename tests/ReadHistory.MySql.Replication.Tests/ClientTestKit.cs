using System.Globalization;
using System.Text;
using ReadHistory.MySql.Replication.Client;
using ReadHistory.TestSupport;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>Helpers for the replication client tests.</summary>
internal static class ClientTestKit
{
    public static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Options that read our test server with a short heartbeat.</summary>
    public static BinlogClientOptions Options(MariaDbServer server, BinlogStart start, Action<OptionsTweaks>? tweak = null)
    {
        var tweaks = new OptionsTweaks();
        tweak?.Invoke(tweaks);
        return new BinlogClientOptions
        {
            ConnectionString = server.ConnectionString(extra: "Connection Timeout=5"),
            Start = start,
            HeartbeatInterval = tweaks.Heartbeat,
            StopAtEnd = tweaks.StopAtEnd,
            TableFilter = tweaks.Filter,
            IncludeEmptyTransactions = tweaks.IncludeEmpty,
            ReconnectBackoff = TimeSpan.FromMilliseconds(100),
            MaxReconnectBackoff = TimeSpan.FromSeconds(1),
            ReconnectTimeout = TimeSpan.FromSeconds(60),
            MaxReconnectAttempts = 200,
        };
    }

    /// <summary>Reads transactions until <paramref name="done"/> says so (bounded by <see cref="StreamTimeout"/>).</summary>
    public static async Task<List<BinlogTransaction>> CollectAsync(BinlogClient client, Func<List<BinlogTransaction>, bool> done, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(StreamTimeout);
        var list = new List<BinlogTransaction>();
        try
        {
            await foreach (var transaction in client.ReadTransactionsAsync(cts.Token))
            {
                list.Add(transaction);
                if (done(list))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the binlog stream did not deliver what was expected within {StreamTimeout}; got {list.Count} transaction(s): " +
                string.Join("; ", list.Select(t => t.ToString())));
        }

        return list;
    }

    /// <summary>Reads to the end of the binlog (StopAtEnd options).</summary>
    public static async Task<List<BinlogTransaction>> ReadToEndAsync(BinlogClient client)
    {
        using var cts = new CancellationTokenSource(StreamTimeout);
        var list = new List<BinlogTransaction>();
        await foreach (var transaction in client.ReadTransactionsAsync(cts.Token))
        {
            list.Add(transaction);
        }

        return list;
    }

    /// <summary>The ids inserted into `schema`.`table` by the transactions, in order.</summary>
    public static List<long> InsertedIds(IEnumerable<BinlogTransaction> transactions, string schema, string table) =>
        transactions.SelectMany(t => t.Changes)
            .Where(c => c.Schema == schema && c.Table == table && c.Kind == Events.RowChangeKind.Insert)
            .Select(c => Convert.ToInt64(c.After![0], CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>SQL inserting ids [from, to) into `t`, one transaction each.</summary>
    public static string InsertEach(int from, int to)
    {
        var sql = new StringBuilder();
        for (var i = from; i < to; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO t VALUES ({i}, 'row {i}');\n");
        }

        return sql.ToString();
    }

    public sealed class OptionsTweaks
    {
        public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(1);

        public bool StopAtEnd { get; set; }

        public bool IncludeEmpty { get; set; } = true;

        public Func<string, string, bool>? Filter { get; set; }
    }
}
