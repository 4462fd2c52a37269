using System.Globalization;

namespace ReadHistory.LoadGen.Measure;

/// <summary>
/// Counters of a cache node scraped from its Prometheus /metrics, summed over their labels but <c>result</c> (kept as
/// <c>name:result</c>): read at the start and the end of the measured period, their difference over its seconds.
/// </summary>
internal static class NodeCounters
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The families read: database rows read by rebuilds, point queries, lookups by result, T2 loads by result.</summary>
    public static readonly string[] Families =
    [
        "readhistory_cache_rebuild_rows_total", "readhistory_cache_point_queries_total", "readhistory_cache_lookups_total",
        "readhistory_cache_t2_loads_total",
    ];

    /// <summary>The counters now, or null when the node does not answer.</summary>
    public static async Task<Dictionary<string, double>?> ScrapeAsync(Uri metrics, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await Client.GetStringAsync(metrics, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return null;
        }

        return Parse(text);
    }

    /// <summary>Sums the <see cref="Families"/> of a Prometheus text exposition.</summary>
    internal static Dictionary<string, double> Parse(string text)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            var name = brace > 0 ? line[..brace] : line[..Math.Max(space, 0)];
            if (space < 0 || Array.IndexOf(Families, name) < 0)
            {
                continue;
            }

            var key = name;
            var result = line.IndexOf("result=\"", StringComparison.Ordinal);
            if (result > 0)
            {
                var from = result + 8;
                key += ":" + line[from..line.IndexOf('"', from)];
            }

            sums[key] = sums.GetValueOrDefault(key) + double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return sums;
    }

    /// <summary>Per-second rates between two scrapes.</summary>
    public static Dictionary<string, double> Rates(Dictionary<string, double> before, Dictionary<string, double> after, double seconds) =>
        after.ToDictionary(static kv => kv.Key, kv => (kv.Value - before.GetValueOrDefault(kv.Key)) / seconds, StringComparer.Ordinal);
}
