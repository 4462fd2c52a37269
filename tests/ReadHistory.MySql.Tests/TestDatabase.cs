using ReadHistory.TestSupport;

namespace ReadHistory.MySql.Tests;

/// <summary>Helpers for tests: a fresh database on the shared server and an open connection to it.</summary>
internal static class TestDatabase
{
    public static async Task<string> ConnectionStringAsync(MariaDbServer server, string? extra = null, string prefix = "t")
    {
        var database = await server.CreateDatabaseAsync(prefix);
        return server.ConnectionString(database, extra);
    }

    public static async Task<MySqlConnection> OpenAsync(string connectionString)
    {
        var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync().WaitAsync(TestTimeout.Default);
        return connection;
    }

    public static async Task RunAsync(this MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().WaitAsync(TestTimeout.Default);
    }
}
