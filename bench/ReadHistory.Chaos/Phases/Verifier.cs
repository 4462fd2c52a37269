using System.Diagnostics;
using Grpc.Core;
using MySqlConnector;
using ReadHistory.Api.V1;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Chaos;

/// <summary>
/// Checks every acknowledged read of the ledger through the proxies (Check, a session of its own, up to 4,000 ids a
/// call, three tries a call) and against the database (every history table read whole; acknowledged rows missing).
/// </summary>
internal static class Verifier
{
    private const int IdsPerCall = 4_000;
    private const int Attempts = 3;

    /// <summary>Fills <paramref name="result"/>.</summary>
    public static async Task VerifyAsync(Ledger ledger, ReadHistoryClient client, string connectionString, FinalVerification result, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var users = ledger.Users();
        result.AckedReads = ledger.AckedRows;
        result.UnknownRows = ledger.UnknownRows;
        long falseNegatives = 0, unverified = 0;
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (user, ct) =>
        {
            var reads = user.Snapshot();
            for (var offset = 0; offset < reads.Length; offset += IdsPerCall)
            {
                var chunk = reads.AsMemory(offset, Math.Min(IdsPerCall, reads.Length - offset));
                var (missed, failed) = await CheckChunkAsync(client, user.UserId, chunk, ct);
                Interlocked.Add(ref falseNegatives, missed);
                Interlocked.Add(ref unverified, failed);
            }
        });
        result.FalseNegatives = falseNegatives;
        result.Unverified = unverified;

        var stored = await ReadDatabaseAsync(connectionString, cancellationToken);
        result.DatabaseRows = stored.Count;
        long missing = 0;
        foreach (var user in users)
        {
            foreach (var read in user.Snapshot())
            {
                missing += stored.Contains((user.UserId, Ledger.ContentType, read.ContentId)) ? 0 : 1;
            }
        }

        result.MissingRows = missing;
        result.Seconds = clock.Elapsed.TotalSeconds;
        result.Ran = true;
    }

    private static async Task<(long Missed, long Failed)> CheckChunkAsync(ReadHistoryClient client, ulong user, ReadOnlyMemory<AckedRead> reads, CancellationToken cancellationToken)
    {
        var request = new CheckRequest { UserId = user, ContentType = Ledger.ContentType, SessionId = "chaos-verify" };
        foreach (var read in reads.Span)
        {
            request.ContentIds.Add(read.ContentId);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var response = await client.CheckAsync(request, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
                var bitmap = response.ReadBitmap.Span;
                long missed = 0;
                for (var i = 0; i < reads.Length; i++)
                {
                    missed += i / 8 < bitmap.Length && (bitmap[i / 8] & (1 << (i % 8))) != 0 ? 0 : 1;
                }

                return (missed, 0);
            }
            catch (RpcException) when (attempt < Attempts)
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (RpcException)
            {
                return (0, reads.Length);
            }
        }
    }

    private static async Task<HashSet<(ulong User, uint Type, ulong Content)>> ReadDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        var rows = new HashSet<(ulong, uint, ulong)>();
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var tables = new List<string>();
        await using (var list = new MySqlCommand(
            "SELECT CONCAT('`', table_schema, '`.`', table_name, '`') FROM information_schema.tables " +
            "WHERE table_schema LIKE 'readhistory\\_%' AND table_schema <> 'readhistory_meta'", connection))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        foreach (var table in tables)
        {
#pragma warning disable CA2100 // The table names come from information_schema, quoted.
            await using var select = new MySqlCommand("SELECT user_id, content_type, content_id FROM " + table, connection) { CommandTimeout = 300 };
#pragma warning restore CA2100
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetUInt64(0), reader.GetUInt16(1), reader.GetUInt64(2)));
            }
        }

        return tables.Count > 0 ? rows : throw new InvalidOperationException("no history table found in the database");
    }
}
