using ReadHistory.Core.Routing;

namespace ReadHistory.LoadGen.Targets;

/// <summary>The server's shards for direct SQL: which shard a user is on (<see cref="ShardMap"/>) and its table (<see cref="ShardNames"/>).</summary>
internal sealed class ShardTables(string prefix, int databases, int tablesPerDatabase)
{
    private readonly ShardMap _map = new(databases, tablesPerDatabase);
    private readonly ShardNames _names = new(prefix, databases, tablesPerDatabase);

    /// <summary>Shards.</summary>
    public int Count => _map.ShardCount;

    /// <summary>Shard of <paramref name="userId"/>.</summary>
    public int ShardOf(ulong userId) => _map.ShardOf(userId);

    /// <summary>Qualified table of <paramref name="shard"/>.</summary>
    public string Table(int shard) => _names.QualifiedTable(shard);
}
