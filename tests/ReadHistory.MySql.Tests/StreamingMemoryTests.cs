using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

/// <summary>
/// A collection that runs alone (no other collection of the assembly runs beside it), with a MariaDB of its own: its
/// test counts the whole process's allocation, which tests running in parallel would add to.
/// </summary>
[CollectionDefinition(StreamingMemoryTests.Collection, DisableParallelization = true)]
public sealed class MariaDbAloneCollectionDefinition : ICollectionFixture<MariaDbFixture>;

[Collection(Collection)]
public sealed class StreamingMemoryTests(MariaDbFixture fixture)
{
    /// <summary>The collection's name.</summary>
    public const string Collection = "mariadb, alone";

    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task A_300000_row_scan_is_streamed_in_bounded_memory()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await connection.RunAsync("CREATE TABLE big (id BIGINT PRIMARY KEY, payload VARCHAR(100))");
        await connection.RunAsync(
            "INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_300000");

        // Whole, the result is 300,000 rows of ~110 bytes (~33 MB of payload, far more as .NET objects).
        await using var command = new MySqlCommand("SELECT id, payload FROM big", connection);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var totalBefore = GC.GetTotalAllocatedBytes(precise: true);
        var peak = GC.GetTotalMemory(forceFullCollection: true);
        var baseline = peak;
        long rows = 0, sum = 0;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows++;
                sum += reader.GetInt64(0);
                if (rows % 20000 == 0)
                {
                    peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                }
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - totalBefore;
        Assert.Equal(300000, rows);
        Assert.Equal(300000L * 300001 / 2, sum);

        // Buffering the rows would allocate at least the 33 MB of row data; streaming allocates a few small
        // objects per ReadAsync that awaits the socket, and keeps the live heap flat.
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes during the scan");
        Assert.True(peak - baseline < 16 * 1024 * 1024, $"managed heap grew by {peak - baseline} bytes");
    }
}
