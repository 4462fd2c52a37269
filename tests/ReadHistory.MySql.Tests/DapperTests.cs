using Dapper;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

[Collection(MariaDbFixture.Collection)]
public sealed class DapperTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    public sealed record Item(long Id, string Name, decimal Price, DateTime Created, bool Active, ulong Flags);

    public sealed class ItemClass
    {
        public long Id { get; set; }

        public string? Name { get; set; }

        public int? Missing { get; set; }
    }

    [Fact]
    public async Task QueryAsync_ExecuteAsync_with_a_list_QueryMultiple_and_unbuffered()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = new MySqlConnection(cs);

        // Dapper opens and closes the connection itself.
        await connection.ExecuteAsync("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(50), price DECIMAL(10,2), created DATETIME, active TINYINT(1), flags BIGINT UNSIGNED)");
        var created = new DateTime(2025, 5, 6, 7, 8, 9);
        var items = Enumerable.Range(1, 50).Select(i => new Item(i, "item " + i + " it's", i * 1.25m, created.AddDays(i), i % 2 == 0, ulong.MaxValue - (ulong)i)).ToList();
        var inserted = await connection.ExecuteAsync(
            "INSERT INTO items (id, name, price, created, active, flags) VALUES (@Id, @Name, @Price, @Created, @Active, @Flags)", items);
        Assert.Equal(50, inserted);

        var read = (await connection.QueryAsync<Item>("SELECT id, name, price, created, active, flags FROM items WHERE id <= @max ORDER BY id", new { max = 10 })).ToList();
        Assert.Equal(items.Take(10), read);

        var inList = await connection.QueryAsync<long>("SELECT id FROM items WHERE id IN @ids ORDER BY id", new { ids = new[] { 3L, 5L, 7L } });
        Assert.Equal([3L, 5L, 7L], inList);

        var single = await connection.QuerySingleAsync<ItemClass>("SELECT id, name FROM items WHERE id = @id", new { id = 2 });
        Assert.Equal("item 2 it's", single.Name);
        Assert.Null(await connection.QueryFirstOrDefaultAsync<ItemClass>("SELECT id, name FROM items WHERE id = -1"));
        Assert.Equal(50L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items"));

        using (var multi = await connection.QueryMultipleAsync("SELECT COUNT(*) FROM items; SELECT id, name FROM items WHERE id < 3 ORDER BY id; SELECT name FROM items WHERE id = @id", new { id = 4 }))
        {
            Assert.Equal(50L, await multi.ReadSingleAsync<long>());
            var pair = (await multi.ReadAsync<ItemClass>()).ToList();
            Assert.Equal([1L, 2L], pair.Select(p => p.Id));
            Assert.Equal("item 4 it's", await multi.ReadSingleAsync<string>());
        }

        var sum = 0m;
        var count = 0;
        await foreach (var item in connection.QueryUnbufferedAsync<Item>("SELECT id, name, price, created, active, flags FROM items ORDER BY id"))
        {
            sum += item.Price;
            count++;
        }

        Assert.Equal(50, count);
        Assert.Equal(items.Sum(i => i.Price), sum);

        var updated = await connection.ExecuteAsync("UPDATE items SET name = @name WHERE id = @id", new[] { new { id = 1, name = "a" }, new { id = 2, name = "b" } });
        Assert.Equal(2, updated);
        Assert.Equal(System.Data.ConnectionState.Closed, connection.State);
    }

    [Fact]
    public async Task Dapper_works_with_prepared_statements_and_transactions()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server, "Auto Prepare=true");
        await using var connection = await TestDatabase.OpenAsync(cs);
        await connection.ExecuteAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v BIGINT)");
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync("INSERT INTO t VALUES (@id, @v)", Enumerable.Range(1, 100).Select(i => new { id = i, v = i * 10 }), transaction);
            await transaction.CommitAsync();
        }

        for (var i = 1; i <= 100; i += 9)
        {
            Assert.Equal(i * 10L, await connection.QuerySingleAsync<long>("SELECT v FROM t WHERE id = @id", new { id = i }));
        }

        Assert.Equal(2, connection.Session!.PreparedStatements!.Count);
    }
}
