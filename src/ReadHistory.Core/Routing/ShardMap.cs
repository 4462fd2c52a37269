namespace ReadHistory.Core.Routing;

/// <summary>
/// Where a user's rows live: one of <see cref="Databases"/> × <see cref="TablesPerDatabase"/> tables.
/// The function is fixed forever for a given shape (changing the shape means moving rows), so it is a plain
/// mixed modulo rather than a consistent hash.
/// </summary>
public sealed class ShardMap
{
    /// <summary>Creates a map of databases × tables per database; both at least 1 and at most 1024.</summary>
    public ShardMap(int databases, int tablesPerDatabase)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(databases, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(databases, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(tablesPerDatabase, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tablesPerDatabase, 1024);
        Databases = databases;
        TablesPerDatabase = tablesPerDatabase;
    }

    /// <summary>Number of databases.</summary>
    public int Databases { get; }

    /// <summary>Number of tables in each database.</summary>
    public int TablesPerDatabase { get; }

    /// <summary>Total number of tables.</summary>
    public int ShardCount => Databases * TablesPerDatabase;

    /// <summary>The shard (0 .. ShardCount-1) of a user.</summary>
    public int ShardOf(ulong userId) => (int)(Mix64.Finalize(userId ^ 0x5bd1e9955bd1e995UL) % (ulong)ShardCount);

    /// <summary>The database index and table index of a user.</summary>
    public (int Database, int Table) Locate(ulong userId)
    {
        var shard = ShardOf(userId);
        return (shard / TablesPerDatabase, shard % TablesPerDatabase);
    }
}
