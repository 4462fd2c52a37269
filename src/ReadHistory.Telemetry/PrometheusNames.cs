using System.Diagnostics.Metrics;

namespace ReadHistory.Telemetry;

/// <summary>
/// Turns instrument names, units and tag names into Prometheus metric and label names.
/// The project names instruments <c>readhistory_&lt;area&gt;_&lt;what&gt;_&lt;unit&gt;</c>, which pass through
/// unchanged; other names are sanitized, given their base unit, and counters end in <c>_total</c>.
/// </summary>
internal static class PrometheusNames
{
    private const string TotalSuffix = "_total";

    /// <summary>The exported name of an instrument of the given type.</summary>
    public static string MetricName(Instrument instrument, MetricType type)
    {
        var name = Sanitize(instrument.Name);
        var isCounter = type is MetricType.Counter or MetricType.ObservedCounter;
        if (isCounter && name.EndsWith(TotalSuffix, StringComparison.Ordinal))
        {
            name = name[..^TotalSuffix.Length];
        }

        var unit = BaseUnitWord(instrument.Unit);
        if (unit is not null && !name.EndsWith("_" + unit, StringComparison.Ordinal))
        {
            name = name + "_" + unit;
        }

        return isCounter ? name + TotalSuffix : name;
    }

    /// <summary>A tag name as a label name: <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    public static string LabelName(string tagName) => Sanitize(tagName);

    /// <summary>
    /// The Prometheus base-unit word for a UCUM unit, or null when none is appended: dimensionless and
    /// annotation units (<c>1</c>, <c>{request}</c>) and non-base units (promtool asks for base units only).
    /// </summary>
    public static string? BaseUnitWord(string? unit) => unit switch
    {
        "s" => "seconds",
        "By" => "bytes",
        _ => null,
    };

    private static string Sanitize(string name)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var needsPrefix = char.IsAsciiDigit(name[0]);
        var clean = true;
        foreach (var c in name)
        {
            clean &= IsNameChar(c);
        }

        if (clean && !needsPrefix)
        {
            return name;
        }

        return string.Create(name.Length + (needsPrefix ? 1 : 0), (name, needsPrefix), static (span, state) =>
        {
            var offset = 0;
            if (state.needsPrefix)
            {
                span[0] = '_';
                offset = 1;
            }

            for (var i = 0; i < state.name.Length; i++)
            {
                span[i + offset] = IsNameChar(state.name[i]) ? state.name[i] : '_';
            }
        });
    }

    // Colons are legal in metric names but reserved for recording rules, so exporters never emit them.
    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
