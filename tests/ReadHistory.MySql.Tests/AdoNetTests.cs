using System.Data;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

[Collection(MariaDbFixture.Collection)]
public sealed class AdoNetTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Executes_queries_and_reads_rows()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        Assert.Equal(ConnectionState.Open, connection.State);
        await connection.RunAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(50))");

        await using (var insert = new MySqlCommand("INSERT INTO t VALUES (@id, @name)", connection))
        {
            insert.Parameters.AddWithValue("@id", 1L);
            insert.Parameters.AddWithValue("name", "one");
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            insert.Parameters["id"].Value = 2L;
            insert.Parameters["@name"].Value = DBNull.Value;
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        await using var select = new MySqlCommand("SELECT id, name FROM t ORDER BY id", connection);
        await using var reader = await select.ExecuteReaderAsync();
        Assert.Equal(2, reader.FieldCount);
        Assert.Equal("id", reader.GetName(0));
        Assert.Equal(typeof(long), reader.GetFieldType(0));
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1L, reader.GetInt64(0));
        Assert.Equal("one", reader.GetString(1));
        Assert.True(await reader.ReadAsync());
        Assert.Equal(2L, reader.GetFieldValue<long>(0));
        Assert.True(reader.IsDBNull(1));
        Assert.Null(reader.GetFieldValue<string?>(1));
        Assert.False(await reader.ReadAsync());
        Assert.False(await reader.NextResultAsync());
    }

    [Fact]
    public async Task Scalar_nonquery_and_last_insert_id()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await connection.RunAsync("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
        await using var command = new MySqlCommand("INSERT INTO t (v) VALUES (10), (20)", connection);
        Assert.Equal(2, await command.ExecuteNonQueryAsync());
        Assert.Equal(1, command.LastInsertedId);
        command.CommandText = "SELECT SUM(v) FROM t";
        Assert.Equal(30m, await command.ExecuteScalarAsync());
        command.CommandText = "UPDATE t SET v = v WHERE id = 1";
        Assert.Equal(1, await command.ExecuteNonQueryAsync()); // found rows, not changed rows
    }

    [Fact]
    public async Task Multiple_result_sets()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await connection.RunAsync("CREATE TABLE t (v INT)");
        await using var command = new MySqlCommand("SELECT 1; INSERT INTO t VALUES (1),(2); SELECT 'a', 'b' UNION ALL SELECT 'c', 'd'; SELECT v FROM t WHERE v > 5; SELECT 42", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1L, reader.GetInt64(0));
        Assert.False(await reader.ReadAsync());

        Assert.True(await reader.NextResultAsync());
        Assert.Equal(2, reader.FieldCount);
        Assert.True(await reader.ReadAsync());
        Assert.Equal("a", reader.GetString(0));
        // Not reading the second row: NextResult skips it.

        Assert.True(await reader.NextResultAsync());
        Assert.False(reader.HasRows);
        Assert.False(await reader.ReadAsync());

        Assert.True(await reader.NextResultAsync());
        Assert.True(reader.HasRows);
        Assert.True(await reader.ReadAsync());
        Assert.Equal(42, reader.GetInt32(0));
        Assert.False(await reader.NextResultAsync());
        await reader.CloseAsync();
        Assert.Equal(2, reader.RecordsAffected);
    }

    [Fact]
    public async Task Server_errors_are_MySqlExceptions_and_the_connection_stays_usable()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await using var command = new MySqlCommand("SELEC 1", connection);
        var ex = await Assert.ThrowsAsync<MySqlException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal(MySqlErrorCode.ParseError, ex.ErrorCode);
        Assert.Equal("42000", ex.SqlState);

        await connection.RunAsync("CREATE TABLE t (id INT PRIMARY KEY)");
        await connection.RunAsync("INSERT INTO t VALUES (1)");
        command.CommandText = "INSERT INTO t VALUES (1)";
        ex = await Assert.ThrowsAsync<MySqlException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal(1062, ex.Number);

        // An error in the second statement surfaces from NextResult.
        command.CommandText = "SELECT 1; SELECT * FROM missing";
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            ex = await Assert.ThrowsAsync<MySqlException>(() => reader.NextResultAsync());
            Assert.Equal(MySqlErrorCode.NoSuchTable, ex.ErrorCode);
        }

        command.CommandText = "SELECT 7";
        Assert.Equal(7L, Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ConnectionState.Open, connection.State);
    }

    [Fact]
    public async Task Transactions_commit_and_roll_back()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await connection.RunAsync("CREATE TABLE t (v INT) ENGINE=InnoDB");
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var insert = new MySqlCommand("INSERT INTO t VALUES (1)", connection, transaction);
            await insert.ExecuteNonQueryAsync();
            await transaction.RollbackAsync();
        }

        await using (var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted))
        {
            await using var insert = new MySqlCommand("INSERT INTO t VALUES (2)", connection, transaction);
            await insert.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var insert = new MySqlCommand("INSERT INTO t VALUES (3)", connection, transaction);
            await insert.ExecuteNonQueryAsync();
            // Disposed without commit: rolled back.
        }

        Assert.Equal("2", (await Server.SqlAsync("SELECT GROUP_CONCAT(v) FROM t", connection.Database)).Trim());
    }

    [Fact]
    public async Task Sync_methods_work()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        using var connection = new MySqlConnection(cs);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 UNION ALL SELECT 2";
        using var reader = command.ExecuteReader();
        var values = new List<long>();
        while (reader.Read())
        {
            values.Add(reader.GetInt64(0));
        }

        Assert.Equal([1L, 2L], values);
        reader.Close();
        Assert.True(connection.Ping());
        connection.ChangeDatabase("mysql");
        Assert.Equal("mysql", connection.Database);
    }

    [Fact]
    public async Task Provider_factory_creates_working_objects()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        var factory = MySqlProviderFactory.Instance;
        await using var connection = factory.CreateConnection()!;
        connection.ConnectionString = cs;
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT @a + @b";
        var a = factory.CreateParameter()!;
        a.ParameterName = "@a";
        a.Value = 40;
        command.Parameters.Add(a);
        var b = command.CreateParameter();
        b.ParameterName = "b";
        b.Value = 2;
        command.Parameters.Add(b);
        Assert.Equal(42L, Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }
}
