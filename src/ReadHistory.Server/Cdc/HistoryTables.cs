using System.Text.RegularExpressions;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// Which binlog tables are history tables (<c>`{prefix}_{d}`.`reads_{t}`</c> for the configured D × T, by exact
/// name), and which statements wipe history wholesale (TRUNCATE / DROP of such a table or database).
/// </summary>
internal sealed partial class HistoryTables
{
    private readonly HashSet<string> _databases;
    private readonly HashSet<string> _tables;
    private readonly string _prefix;

    /// <summary>Creates the filter for the storage names.</summary>
    public HistoryTables(ShardNames names)
    {
        ArgumentNullException.ThrowIfNull(names);
        _prefix = names.Prefix;
        _databases = new HashSet<string>(Enumerable.Range(0, names.Databases).Select(names.Database), StringComparer.Ordinal);
        _tables = new HashSet<string>(Enumerable.Range(0, names.TablesPerDatabase).Select(ShardNames.Table), StringComparer.Ordinal);
        Filter = IsHistoryTable;
    }

    /// <summary>The table filter to hand to the binlog client (schema, table) → keep rows.</summary>
    public Func<string, string, bool> Filter { get; }

    /// <summary>Whether (schema, table) is a history table.</summary>
    public bool IsHistoryTable(string schema, string table) => _databases.Contains(schema) && _tables.Contains(table);

    /// <summary>
    /// Whether a statement truncates or drops a history table or database. Errs on the side of yes (a statement
    /// naming any database of the prefix): a false yes only costs the replicas a rebuild, a false no a stale filter.
    /// </summary>
    public bool WipesHistory(string schema, string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        if (!WipeStatement().IsMatch(sql))
        {
            return false;
        }

        return (sql.Contains(_prefix + "_", StringComparison.OrdinalIgnoreCase) || _databases.Contains(schema ?? string.Empty))
            && (sql.Contains("reads_", StringComparison.OrdinalIgnoreCase) || DropDatabase().IsMatch(sql));
    }

    [GeneratedRegex(@"^\s*(/\*.*?\*/\s*)*(TRUNCATE|DROP\s+(TABLE|DATABASE|SCHEMA))\b", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex WipeStatement();

    [GeneratedRegex(@"^\s*(/\*.*?\*/\s*)*DROP\s+(DATABASE|SCHEMA)\b", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex DropDatabase();
}
