using System.Globalization;
using ReadHistory.Core.Routing;

namespace ReadHistory.LoadGen.Targets;

/// <summary>The server's storage names (<c>`{prefix}_{d}`.`reads_{t}`</c>, shard by <see cref="ShardMap"/>), mirrored for direct SQL.</summary>
internal sealed class ShardTables
{
    private readonly ShardMap _map;
    private readonly string[] _tables;

    /// <summary>Names for <paramref name="prefix"/> over D × T shards.</summary>
    public ShardTables(string prefix, int databases, int tablesPerDatabase)
    {
        _map = new ShardMap(databases, tablesPerDatabase);
        _tables = new string[_map.ShardCount];
        for (var shard = 0; shard < _tables.Length; shard++)
        {
            _tables[shard] = string.Create(CultureInfo.InvariantCulture, $"`{prefix}_{shard / tablesPerDatabase}`.`reads_{shard % tablesPerDatabase}`");
        }
    }

    /// <summary>Shards.</summary>
    public int Count => _tables.Length;

    /// <summary>Shard of <paramref name="userId"/>.</summary>
    public int ShardOf(ulong userId) => _map.ShardOf(userId);

    /// <summary>Qualified table of <paramref name="shard"/>.</summary>
    public string Table(int shard) => _tables[shard];
}
