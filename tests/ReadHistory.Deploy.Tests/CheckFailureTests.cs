using System.Text.Json.Nodes;
using Xunit;

namespace ReadHistory.Deploy.Tests;

/// <summary>Each manifest check, run on a broken copy of the prod overlay, reports the breakage.</summary>
public sealed class CheckFailureTests
{
    private static readonly Lazy<string> ProdJson = new(() => KustomizeTests.Prod().ToJsonString());

    private static JsonArray Prod() => JsonNode.Parse(ProdJson.Value)!.AsArray();

    private static JsonObject Obj(JsonArray objects, string kind, string name) => ManifestChecks.Find(objects, kind, name)!;

    private static JsonObject FirstContainer(JsonObject workload) => workload["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();

    [Fact]
    public void The_unbroken_overlay_is_clean()
    {
        var objects = Prod();
        Assert.Empty(ManifestChecks.Topology(objects));
        Assert.Empty(ManifestChecks.PodHygiene(objects));
        Assert.Empty(ManifestChecks.NoInlineSecrets(objects));
        Assert.Empty(ManifestChecks.DisruptionBudgets(objects));
    }

    [Fact]
    public void StatefulSet_replicas_out_of_step_with_the_topology_are_reported()
    {
        var objects = Prod();
        Obj(objects, "StatefulSet", "readhistory-cache-feed")["spec"]!["replicas"] = 6;
        Assert.Contains(ManifestChecks.Topology(objects), p => p.Contains("replicas 6", StringComparison.Ordinal));
    }

    [Fact]
    public void A_replica_URI_naming_the_wrong_ordinal_is_reported()
    {
        var objects = Prod();
        var map = ManifestChecks.ConfigMap(objects);
        map["data"]!["ReadHistory__Topology__Pools__0__Slots__1__Replicas__0"] = "http://readhistory-cache-feed-3.readhistory-cache-feed:50052";
        Assert.Contains(ManifestChecks.Topology(objects), p => p.Contains("readhistory-cache-feed-2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_replica_URI_naming_the_public_port_is_reported()
    {
        var objects = Prod();
        var map = ManifestChecks.ConfigMap(objects);
        map["data"]!["ReadHistory__Topology__Pools__0__Slots__1__Replicas__0"] = "http://readhistory-cache-feed-2.readhistory-cache-feed:50051";
        Assert.Contains(ManifestChecks.Topology(objects), p => p.Contains("on port 50052", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_headless_service_is_reported()
    {
        var objects = Prod();
        Obj(objects, "StatefulSet", "readhistory-cache-push")["spec"]!["serviceName"] = "nowhere";
        Assert.Contains(ManifestChecks.Topology(objects), p => p.Contains("nowhere", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_probe_and_a_writable_root_are_reported()
    {
        var objects = Prod();
        var container = FirstContainer(Obj(objects, "Deployment", "readhistory-cdc"));
        container.Remove("readinessProbe");
        container["securityContext"]!["readOnlyRootFilesystem"] = false;
        var problems = ManifestChecks.PodHygiene(objects);
        Assert.Contains(problems, p => p.Contains("no readinessProbe", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("readOnlyRootFilesystem", StringComparison.Ordinal));
    }

    [Fact]
    public void An_inline_password_and_a_Secret_object_are_reported()
    {
        var objects = Prod();
        FirstContainer(Obj(objects, "StatefulSet", "readhistory-cache-feed"))["env"]!.AsArray()
            .Add(new JsonObject { ["name"] = "ReadHistory__Database__ConnectionString", ["value"] = "Server=db;User ID=app;Password=hunter2" });
        objects.Add(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = "readhistory-db" }, ["data"] = new JsonObject { ["x"] = "eA==" } });
        var problems = ManifestChecks.NoInlineSecrets(objects);
        Assert.Contains(problems, p => p.Contains("inline value", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Secret/readhistory-db", StringComparison.Ordinal));
    }

    [Fact]
    public void A_PDB_selecting_nothing_and_a_loose_cache_PDB_are_reported()
    {
        var objects = Prod();
        Obj(objects, "PodDisruptionBudget", "readhistory-cdc")["spec"]!["selector"]!["matchLabels"]!["app.kubernetes.io/component"] = "cdcx";
        Obj(objects, "PodDisruptionBudget", "readhistory-cache-feed")["spec"]!["maxUnavailable"] = 2;
        var problems = ManifestChecks.DisruptionBudgets(objects);
        Assert.Contains(problems, p => p.Contains("readhistory-cdc selects no pods", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("readhistory-cache-feed on cache nodes", StringComparison.Ordinal));
    }

    [Fact]
    public void A_grace_period_shorter_than_the_drain_is_reported()
    {
        var objects = Prod();
        Obj(objects, "StatefulSet", "readhistory-cache-feed")["spec"]!["template"]!["spec"]!["terminationGracePeriodSeconds"] = 25;
        Assert.Contains(ManifestChecks.GracefulShutdown(objects), p => p.Contains("readhistory-cache-feed", StringComparison.Ordinal));
    }
}
