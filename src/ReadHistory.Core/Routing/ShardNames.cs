using System.Globalization;

namespace ReadHistory.Core.Routing;

/// <summary>
/// Names of the history databases and tables: <c>`{prefix}_{d}`.`reads_{t}`</c>, and the meta database
/// <c>`{prefix}_meta`</c>. Names are built from a validated prefix and integers only, so they can be spliced into SQL.
/// Here, beside <see cref="ShardMap"/>, because the server's storage and the load generator's direct SQL both name
/// shards this way (the load generator does not reference the server).
/// </summary>
public sealed class ShardNames
{
    private readonly string[] _qualifiedTables;

    /// <summary>Creates the names for a prefix and a shard shape.</summary>
    public ShardNames(string prefix, int databases, int tablesPerDatabase)
    {
        if (!IsSafeIdentifier(prefix, 40))
        {
            throw new ArgumentException($"database prefix '{prefix}' must be 1 .. 40 of [A-Za-z0-9_]", nameof(prefix));
        }

        Prefix = prefix;
        Databases = databases;
        TablesPerDatabase = tablesPerDatabase;
        _qualifiedTables = new string[databases * tablesPerDatabase];
        for (var shard = 0; shard < _qualifiedTables.Length; shard++)
        {
            _qualifiedTables[shard] = $"`{Database(shard / tablesPerDatabase)}`.`{Table(shard % tablesPerDatabase)}`";
        }
    }

    /// <summary>The prefix.</summary>
    public string Prefix { get; }

    /// <summary>Number of databases.</summary>
    public int Databases { get; }

    /// <summary>Tables per database.</summary>
    public int TablesPerDatabase { get; }

    /// <summary>The meta database holding the schema version.</summary>
    public string MetaDatabase => Prefix + "_meta";

    /// <summary>Name of database <paramref name="index"/>.</summary>
    public string Database(int index) => Prefix + "_" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Name of table <paramref name="index"/> inside a database.</summary>
    public static string Table(int index) => "reads_" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The quoted <c>`db`.`table`</c> of a shard (0 .. D×T-1, as <see cref="ShardMap.ShardOf"/>).</summary>
    public string QualifiedTable(int shard) => _qualifiedTables[shard];

    /// <summary>Whether a name is 1 .. <paramref name="maxLength"/> ASCII letters, digits or underscores.</summary>
    public static bool IsSafeIdentifier(string? name, int maxLength)
    {
        if (string.IsNullOrEmpty(name) || name.Length > maxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
