using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace ReadHistory.Deploy.Tests;

/// <summary>Renders every overlay with kubectl kustomize and checks the objects (see ManifestChecks).</summary>
public sealed partial class KustomizeTests
{
    private static readonly string[] OverlayNames = ["dev", "prod"];

    public static TheoryData<string> Overlays => new(OverlayNames);

    [GeneratedRegex(@"create secret generic\s+(\S+)((?:\s*\\?\s*--from-(?:literal|file)=[^=\s]+=\S*)+)")]
    private static partial Regex CreateSecret();

    [GeneratedRegex(@"--from-(?:literal|file)=([^=\s]+)=")]
    private static partial Regex FromKey();

    private static readonly Dictionary<string, string[]> PoolsOf = new(StringComparer.Ordinal)
    {
        ["dev"] = ["feed"],
        ["prod"] = ["feed", "push"],
    };

    private static readonly Dictionary<string, string> NamespaceOf = new(StringComparer.Ordinal)
    {
        ["dev"] = "readhistory-dev",
        ["prod"] = "readhistory",
    };

    private static void Clean(List<string> problems) => Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

    [Fact]
    public void Every_overlay_directory_is_covered_by_these_tests()
    {
        var dirs = Directory.GetDirectories(Tools.PathOf("k8s", "overlays")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(OverlayNames.Order(), dirs);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Overlay_has_every_required_object(string overlay) =>
        Clean(ManifestChecks.RequiredObjects(Tools.RenderOverlay(overlay), PoolsOf[overlay]));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_container_has_probes_security_context_resources_and_tmp(string overlay) =>
        Clean(ManifestChecks.PodHygiene(Tools.RenderOverlay(overlay)));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void No_secret_value_is_inline(string overlay) =>
        Clean(ManifestChecks.NoInlineSecrets(Tools.RenderOverlay(overlay)));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Topology_matches_the_StatefulSets(string overlay) =>
        Clean(ManifestChecks.Topology(Tools.RenderOverlay(overlay)));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Disruption_budgets_and_services_select_existing_pods(string overlay) =>
        Clean(ManifestChecks.DisruptionBudgets(Tools.RenderOverlay(overlay)));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Cache_nodes_and_proxies_drain_within_the_grace_period(string overlay) =>
        Clean(ManifestChecks.GracefulShutdown(Tools.RenderOverlay(overlay)));

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Everything_lives_in_the_overlay_namespace(string overlay) =>
        Clean(ManifestChecks.OneNamespace(Tools.RenderOverlay(overlay), NamespaceOf[overlay]));

    [Fact]
    public void Dev_is_tiny()
    {
        var objects = Tools.RenderOverlay("dev");
        Assert.Equal(1, (int?)ManifestChecks.Find(objects, "HorizontalPodAutoscaler", "readhistory-proxy")!["spec"]!["maxReplicas"]);
        Assert.Equal(1, (int?)ManifestChecks.Find(objects, "Deployment", "readhistory-cdc")!["spec"]!["replicas"]);
        Assert.Equal(1, (int?)ManifestChecks.Find(objects, "StatefulSet", "readhistory-cache-feed")!["spec"]!["replicas"]);
    }

    [Fact]
    public void Prod_runs_several_slots_with_two_replicas_and_a_standby_CDC()
    {
        var objects = Tools.RenderOverlay("prod");
        Assert.Equal(8, (int?)ManifestChecks.Find(objects, "StatefulSet", "readhistory-cache-feed")!["spec"]!["replicas"]);
        Assert.Equal(4, (int?)ManifestChecks.Find(objects, "StatefulSet", "readhistory-cache-push")!["spec"]!["replicas"]);
        Assert.Equal(2, (int?)ManifestChecks.Find(objects, "Deployment", "readhistory-cdc")!["spec"]!["replicas"]);
        Assert.True((int?)ManifestChecks.Find(objects, "HorizontalPodAutoscaler", "readhistory-proxy")!["spec"]!["minReplicas"] >= 2);
    }

    [Fact]
    public void Prod_turns_api_keys_on_with_the_keys_from_a_mounted_secret_and_dev_allows_anonymous_explicitly()
    {
        var prod = Tools.RenderOverlay("prod");
        var dev = Tools.RenderOverlay("dev");
        var proxy = ManifestChecks.Find(prod, "Deployment", "readhistory-proxy")!["spec"]!["template"]!["spec"]!.AsObject();
        var container = ManifestChecks.Containers(proxy).First();
        var folder = ManifestChecks.EnvValue(container, "READHISTORY_CONFIG_DIR");

        Assert.Equal("ApiKeys", ManifestChecks.ConfigData(prod)["ReadHistory__Auth__Mode"]);
        Assert.Equal("false", ManifestChecks.ConfigData(prod)["ReadHistory__Auth__AllowAnonymous"]);
        Assert.Equal("true", ManifestChecks.ConfigData(dev)["ReadHistory__Auth__AllowAnonymous"]);
        var mount = container["volumeMounts"]!.AsArray().Single(m => (string?)m!["mountPath"] == folder)!;
        var volume = proxy["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
        Assert.Equal("readhistory-api-keys", (string?)volume["secret"]!["secretName"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_referenced_secret_key_is_created_by_the_documented_command(string overlay)
    {
        var documented = new HashSet<(string, string)>();
        foreach (Match m in CreateSecret().Matches(File.ReadAllText(Tools.PathOf("docs", "operations.md"))))
        {
            foreach (Match k in FromKey().Matches(m.Groups[2].Value))
            {
                documented.Add((m.Groups[1].Value, k.Groups[1].Value));
            }
        }

        var refs = ManifestChecks.SecretRefs(Tools.RenderOverlay(overlay));
        Assert.NotEmpty(refs);
        var missing = refs.Where(r => !documented.Contains(r)).Select(r => $"{r.Name}/{r.Key}").ToList();
        Assert.True(missing.Count == 0, "not created by any `kubectl create secret generic` in docs/operations.md: " + string.Join(", ", missing));
    }

    [Fact]
    public void Roles_match_the_workloads()
    {
        var objects = Tools.RenderOverlay("prod");
        string? Role(string kind, string name) => ManifestChecks.EnvValue(
            ManifestChecks.Containers(ManifestChecks.Find(objects, kind, name)!["spec"]!["template"]!["spec"]!.AsObject()).First(), "ReadHistory__Roles");
        Assert.Equal("proxy", Role("Deployment", "readhistory-proxy"));
        Assert.Equal("cdc", Role("Deployment", "readhistory-cdc"));
        Assert.Equal("cache", Role("StatefulSet", "readhistory-cache-feed"));
        Assert.Equal("cache", Role("StatefulSet", "readhistory-cache-push"));
        Assert.Equal("0.0.0.0:50051", ManifestChecks.ConfigData(objects)["ReadHistory__GrpcListen"]);
        Assert.Equal("0.0.0.0:50052", ManifestChecks.ConfigData(objects)["ReadHistory__InternalGrpcListen"]);
        Assert.Equal("0.0.0.0:8080", ManifestChecks.ConfigData(objects)["ReadHistory__HttpListen"]);
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public void Only_proxies_run_server_gc_and_cache_nodes_keep_the_executables_workstation_gc(string overlay)
    {
        var objects = Tools.RenderOverlay(overlay);
        string? GcServer(string kind, string name) => ManifestChecks.EnvValue(
            ManifestChecks.Containers(ManifestChecks.Find(objects, kind, name)!["spec"]!["template"]!["spec"]!.AsObject()).First(), "DOTNET_gcServer");

        Assert.Equal("1", GcServer("Deployment", "readhistory-proxy"));
        Assert.Null(GcServer("StatefulSet", "readhistory-cache-feed"));
        Assert.Null(GcServer("Deployment", "readhistory-cdc"));
        Assert.False(ManifestChecks.ConfigData(objects).ContainsKey("DOTNET_gcServer"), "a ConfigMap gives every pod DOTNET_gcServer");
    }

    internal static JsonArray Prod() => Tools.RenderOverlay("prod");
}
