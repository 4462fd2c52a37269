using System.Collections.Concurrent;
using System.Text;

namespace ReadHistory.MySql.Protocol;

/// <summary>A placeholder found in SQL text: its position in the text and what it names.</summary>
internal readonly record struct Placeholder(int Start, int Length, string? Name, int Position);

/// <summary>SQL text split at its parameter placeholders (@name, ?name, positional ?), outside strings, identifiers and comments.</summary>
internal sealed class ParsedSql
{
    private static readonly ConcurrentDictionary<string, ParsedSql> Cache = new(StringComparer.Ordinal);
    private const int MaxCacheEntries = 4096;

    private ParsedSql(string sql, Placeholder[] placeholders)
    {
        Sql = sql;
        Placeholders = placeholders;
    }

    public string Sql { get; }

    public Placeholder[] Placeholders { get; }

    /// <summary>The parsed form of <paramref name="sql"/>, cached (Dapper makes a new command per call with the same text).</summary>
    public static ParsedSql Get(string sql)
    {
        if (Cache.TryGetValue(sql, out var parsed))
        {
            return parsed;
        }

        parsed = Parse(sql);
        if (Cache.Count >= MaxCacheEntries)
        {
            Cache.Clear();
        }

        Cache.TryAdd(sql, parsed);
        return parsed;
    }

    public static ParsedSql Parse(string sql)
    {
        var placeholders = new List<Placeholder>();
        var positional = 0;
        var i = 0;
        var n = sql.Length;
        while (i < n)
        {
            var c = sql[i];
            switch (c)
            {
                case '\'':
                case '"':
                    i = SkipQuoted(sql, i, c, backslash: true);
                    break;
                case '`':
                    i = SkipQuoted(sql, i, '`', backslash: false);
                    break;
                case '-' when i + 1 < n && sql[i + 1] == '-' && (i + 2 >= n || char.IsWhiteSpace(sql[i + 2])):
                case '#':
                    while (i < n && sql[i] != '\n')
                    {
                        i++;
                    }

                    break;
                case '/' when i + 1 < n && sql[i + 1] == '*':
                {
                    var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    i = end < 0 ? n : end + 2;
                    break;
                }

                case '@' when i + 1 < n && sql[i + 1] == '@':
                    i += 2;
                    while (i < n && IsNameChar(sql[i]))
                    {
                        i++;
                    }

                    break;
                case '@':
                case '?':
                {
                    var j = i + 1;
                    while (j < n && IsNameChar(sql[j]))
                    {
                        j++;
                    }

                    if (j > i + 1)
                    {
                        placeholders.Add(new Placeholder(i, j - i, sql[(i + 1)..j], -1));
                    }
                    else if (c == '?')
                    {
                        placeholders.Add(new Placeholder(i, 1, null, positional++));
                    }

                    i = j;
                    break;
                }

                default:
                    i++;
                    break;
            }
        }

        return new ParsedSql(sql, [.. placeholders]);
    }

    /// <summary>The SQL with every placeholder that resolves to a parameter replaced by '?', and those parameters in order (for COM_STMT_PREPARE).</summary>
    public (string Sql, List<ParameterReference> References) ToPrepared(Func<Placeholder, bool> isParameter)
    {
        var builder = new StringBuilder(Sql.Length);
        var references = new List<ParameterReference>();
        var last = 0;
        foreach (var placeholder in Placeholders)
        {
            if (!isParameter(placeholder))
            {
                continue;
            }

            builder.Append(Sql, last, placeholder.Start - last).Append('?');
            references.Add(new ParameterReference(placeholder.Name, placeholder.Position));
            last = placeholder.Start + placeholder.Length;
        }

        builder.Append(Sql, last, Sql.Length - last);
        return (builder.ToString(), references);
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' or '.' || c > 0x7F && char.IsLetterOrDigit(c);

    private static int SkipQuoted(string sql, int i, char quote, bool backslash)
    {
        i++;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (backslash && c == '\\')
            {
                i += 2;
                continue;
            }

            if (c == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return i;
    }
}
