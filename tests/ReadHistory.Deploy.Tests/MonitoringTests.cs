using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace ReadHistory.Deploy.Tests;

/// <summary>Alert rules (promtool), their unit tests, the dashboard, and both against docs/metrics.md and docs/operations.md.</summary>
public sealed partial class MonitoringTests
{
    private static readonly string[] RequiredAlerts =
    [
        "ReadHistoryCoherenceLagHigh", "ReadHistoryErrorRateHigh", "ReadHistoryCheckLatencyHigh", "ReadHistoryCacheHitRatioLow",
        "ReadHistoryCacheNearBudget", "ReadHistoryCdcLeaderMissing", "ReadHistoryCdcLagHigh", "ReadHistoryReplicaUnhealthy",
    ];

    [GeneratedRegex(@"\breadhistory_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^\|\s*`(readhistory_[a-z0-9_]+)`", RegexOptions.Multiline)]
    private static partial Regex CatalogueRow();

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^a-z0-9 _-]")]
    private static partial Regex NotSlug();

    private static string Read(params string[] parts) => File.ReadAllText(Tools.PathOf(parts));

    /// <summary>The metric names of docs/metrics.md's catalogue table.</summary>
    internal static HashSet<string> Catalogue() =>
        CatalogueRow().Matches(Read("docs", "metrics.md")).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>Metric names used in a text that the catalogue lacks (histogram suffixes map to their family).</summary>
    internal static List<string> UnknownMetrics(string text, HashSet<string> catalogue) =>
        MetricName().Matches(text).Select(m => m.Value).Distinct()
            .Where(name => !catalogue.Contains(name) && !new[] { "_bucket", "_sum", "_count" }.Any(s => name.EndsWith(s, StringComparison.Ordinal) && catalogue.Contains(name[..^s.Length])))
            .ToList();

    /// <summary>GitHub's heading anchors of docs/operations.md.</summary>
    internal static HashSet<string> RunbookAnchors() =>
        Heading().Matches(Read("docs", "operations.md"))
            .Select(m => NotSlug().Replace(m.Groups[1].Value.ToLowerInvariant(), "").Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);

    private static JsonArray Rules() =>
        new(Tools.YamlToJson(Read("monitoring", "alerts.yml"))[0]!["groups"]!.AsArray()
            .SelectMany(g => g!["rules"]!.AsArray()).Select(r => r!.DeepClone()).ToArray());

    [Fact]
    public void Promtool_accepts_the_rules()
    {
        Tools.Require(Tools.Promtool, "prometheus");
        var (code, stdout, stderr) = Tools.Run(Tools.Promtool, ["check", "rules", "monitoring/alerts.yml"]);
        Assert.True(code == 0, stdout + stderr);
    }

    [Fact]
    public void Promtool_unit_tests_of_the_rules_pass()
    {
        Tools.Require(Tools.Promtool, "prometheus");
        var (code, stdout, stderr) = Tools.Run(Tools.Promtool, ["test", "rules", "alerts.test.yml"], workingDirectory: Tools.PathOf("monitoring"));
        Assert.True(code == 0, stdout + stderr);
        var tests = Read("monitoring", "alerts.test.yml");
        Assert.Contains("alertname: ReadHistoryCdcLeaderMissing", tests, StringComparison.Ordinal);
        Assert.Contains("alertname: ReadHistoryErrorRateHigh", tests, StringComparison.Ordinal);
    }

    [Fact]
    public void Promtool_unit_tests_fail_when_a_rule_is_broken()
    {
        // The same unit tests against a copy of the rules with the error threshold raised to 50 %.
        Tools.Require(Tools.Promtool, "prometheus");
        var dir = Directory.CreateTempSubdirectory("readhistory-alerts-");
        try
        {
            var rules = Read("monitoring", "alerts.yml");
            var broken = rules.Replace(") > 0.01", ") > 0.5", StringComparison.Ordinal);
            Assert.NotEqual(rules, broken);
            File.WriteAllText(Path.Combine(dir.FullName, "alerts.yml"), broken);
            File.Copy(Tools.PathOf("monitoring", "alerts.test.yml"), Path.Combine(dir.FullName, "alerts.test.yml"));
            var (code, stdout, stderr) = Tools.Run(Tools.Promtool, ["test", "rules", "alerts.test.yml"], workingDirectory: dir.FullName);
            Assert.NotEqual(0, code);
            Assert.Contains("alertname: ReadHistoryErrorRateHigh", stdout + stderr, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Every_required_alert_exists_with_severity_annotations_and_a_runbook_anchor()
    {
        var rules = Rules();
        var anchors = RunbookAnchors();
        Assert.Empty(RequiredAlerts.Except(rules.Select(r => (string?)r!["alert"]).OfType<string>()));
        foreach (var rule in rules.OfType<JsonObject>())
        {
            var name = (string?)rule["alert"];
            Assert.NotNull(name);
            Assert.Contains((string?)rule["labels"]?["severity"], new[] { "critical", "warning", "info" });
            Assert.False(string.IsNullOrWhiteSpace((string?)rule["annotations"]?["summary"]), name);
            Assert.False(string.IsNullOrWhiteSpace((string?)rule["annotations"]?["description"]), name);
            var url = (string?)rule["annotations"]?["runbook_url"] ?? "";
            var hash = url.IndexOf("docs/operations.md#", StringComparison.Ordinal);
            Assert.True(hash >= 0, $"{name}: runbook_url {url} does not point into docs/operations.md");
            var anchor = url[(hash + "docs/operations.md#".Length)..];
            Assert.True(anchors.Contains(anchor), $"{name}: docs/operations.md has no heading for #{anchor}");
        }
    }

    [Fact]
    public void Alerts_use_only_catalogued_metrics()
    {
        var catalogue = Catalogue();
        Assert.True(catalogue.Count >= 20, "docs/metrics.md catalogue looks empty");
        Assert.Empty(UnknownMetrics(Read("monitoring", "alerts.yml"), catalogue));
        Assert.Empty(UnknownMetrics(Read("monitoring", "alerts.test.yml"), catalogue));
    }

    [Fact]
    public void The_dashboard_parses_and_uses_only_catalogued_metrics()
    {
        var text = Read("monitoring", "grafana-dashboard.json");
        var dashboard = JsonNode.Parse(text)!;
        Assert.InRange((int)dashboard["schemaVersion"]!, 36, 41);
        Assert.Contains(dashboard["templating"]!["list"]!.AsArray(), v => (string?)v!["type"] == "datasource" && (string?)v["query"] == "prometheus");
        var exprs = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]?.AsArray() ?? []).Select(t => (string?)t!["expr"]).OfType<string>().ToList();
        Assert.True(exprs.Count >= 20, "dashboard has too few queries");
        Assert.Empty(UnknownMetrics(string.Join("\n", exprs), Catalogue()));
        Assert.Empty(UnknownMetrics(text, Catalogue()));
        foreach (var signal in new[] { "readhistory_rpc_requests_total", "readhistory_rpc_request_duration_seconds_bucket", "readhistory_cache_lookups_total",
                     "readhistory_cache_budget_bytes", "readhistory_coherence_lag_seconds_bucket", "readhistory_cdc_lag_seconds", "readhistory_cdc_leader",
                     "readhistory_storage_ingest_rows_total", "readhistory_storage_ingest_queue_rows", "readhistory_mysql_pool_connections" })
        {
            Assert.Contains(exprs, e => e.Contains(signal, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_metric_name_check_catches_an_uncatalogued_name()
    {
        var catalogue = Catalogue();
        Assert.Equal(["readhistory_made_up_total"], UnknownMetrics("rate(readhistory_made_up_total[5m]) + readhistory_coherence_lag_seconds_bucket", catalogue));
    }

    [Fact]
    public void Every_catalogued_metric_is_on_the_dashboard_or_in_an_alert()
    {
        var used = Read("monitoring", "grafana-dashboard.json") + Read("monitoring", "alerts.yml");
        var unused = Catalogue().Where(m => !used.Contains(m, StringComparison.Ordinal)).ToList();
        Assert.True(unused.Count == 0, "catalogued but neither charted nor alerted on: " + string.Join(", ", unused));
    }

    [Fact]
    public void Grafana_json_is_not_a_serialisation_accident()
    {
        using var doc = JsonDocument.Parse(Read("monitoring", "grafana-dashboard.json"));
        Assert.Equal("readhistory-overview", doc.RootElement.GetProperty("uid").GetString());
    }
}
