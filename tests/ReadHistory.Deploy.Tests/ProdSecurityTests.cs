using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace ReadHistory.Deploy.Tests;

/// <summary>
/// The prod overlay's security, rendered with kubectl kustomize: TLS on both gRPC ports and mutual TLS on the internal
/// one, TLS to MariaDB and Redis (with a Redis ACL user), every certificate, key, CA and password from a Secret, and
/// NetworkPolicies that let only proxies and peers reach the internal port and only the cache nodes, the CDC and the
/// migrate Job reach the databases.
/// </summary>
public sealed partial class ProdSecurityTests
{
    private const int MariaDbPort = 3306;
    private const int RedisTlsPort = 6380;
    private static readonly JsonArray Prod = Tools.RenderOverlay("prod");

    // The whole command, its continuation lines included.
    [GeneratedRegex(@"create secret generic readhistory-db((?:[^\n]*\\\n)*[^\n]*)")]
    private static partial Regex CreateDbSecret();

    [GeneratedRegex(@"create secret (?:generic|tls)\s+(\S+)")]
    private static partial Regex CreateAnySecret();

    [Theory]
    [InlineData("Deployment/readhistory-proxy")]
    [InlineData("StatefulSet/readhistory-cache-feed")]
    [InlineData("StatefulSet/readhistory-cache-push")]
    [InlineData("Deployment/readhistory-cdc")]
    public void The_public_port_serves_tls_with_a_certificate_from_a_secret(string workload)
    {
        var (container, spec) = Container(workload);

        Assert.Equal("readhistory-tls", SecretBehind(container, spec, ManifestChecks.EnvValue(container, "ReadHistory__TlsCertificatePath")));
        Assert.Equal("readhistory-tls", SecretBehind(container, spec, ManifestChecks.EnvValue(container, "ReadHistory__TlsKeyPath")));
    }

    [Theory]
    [InlineData("Deployment/readhistory-proxy")]
    [InlineData("StatefulSet/readhistory-cache-feed")]
    [InlineData("StatefulSet/readhistory-cache-push")]
    public void Proxies_and_cache_nodes_use_mutual_tls_on_the_internal_port_from_a_secret(string workload)
    {
        var (container, spec) = Container(workload);

        foreach (var key in (string[])["CertificatePath", "KeyPath", "CaPath"])
        {
            Assert.Equal("readhistory-internal-tls", SecretBehind(container, spec, ManifestChecks.EnvValue(container, "ReadHistory__InternalTls__" + key)));
        }
    }

    [Fact]
    public void Every_replica_of_the_topology_is_called_over_https()
    {
        var replicas = ManifestChecks.ConfigData(Prod).Where(kv => kv.Key.Contains("__Replicas__", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(replicas);
        Assert.All(replicas, kv => Assert.StartsWith("https://", kv.Value, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("StatefulSet/readhistory-cache-feed")]
    [InlineData("StatefulSet/readhistory-cache-push")]
    [InlineData("Deployment/readhistory-cdc")]
    public void Redis_is_reached_over_tls_as_an_acl_user_with_the_password_and_ca_from_secrets(string workload)
    {
        var (container, spec) = Container(workload);
        var redis = ManifestChecks.ConfigData(Prod)["ReadHistory__Redis__Configuration"];
        var password = Env(container, "ReadHistory__Redis__Password")!["valueFrom"]!["secretKeyRef"]!;

        Assert.Contains("ssl=true", redis, StringComparison.Ordinal);
        Assert.Matches("(^|,)user=[a-z]", redis);
        Assert.DoesNotContain("password", redis, StringComparison.OrdinalIgnoreCase);
        Assert.Null(Env(container, "ReadHistory__Redis__Configuration"));
        Assert.Equal(("readhistory-redis", "password"), ((string?)password["name"], (string?)password["key"]));
        Assert.Equal("readhistory-redis-ca", SecretBehind(container, spec, ManifestChecks.EnvValue(container, "ReadHistory__Redis__CaPath")));
    }

    [Fact]
    public void Every_workload_with_a_database_connection_string_mounts_the_database_ca_its_documented_string_verifies_against()
    {
        var documented = CreateDbSecret().Matches(File.ReadAllText(Tools.PathOf("docs", "operations.md")))
            .Select(m => m.Groups[1].Value)
            .First(s => s.Contains("VerifyFull", StringComparison.Ordinal));
        var caPath = Regex.Match(documented, "SslCa=([^;'\\s]+)").Groups[1].Value;
        var users = ManifestChecks.Workloads(Prod)
            .SelectMany(w => ManifestChecks.Containers(w.PodSpec).Select(c => (w.Id, Container: c, Spec: w.PodSpec)))
            .Where(x => (x.Container["env"]?.AsArray() ?? []).Any(e => (string?)e?["valueFrom"]?["secretKeyRef"]?["name"] == "readhistory-db"))
            .ToList();

        Assert.Equal(3, Regex.Count(documented, "SslMode=VerifyFull;SslCa=" + Regex.Escape(caPath)));
        Assert.Equal(4, users.Count);
        Assert.All(users, x => Assert.Equal("readhistory-db-ca", SecretBehind(x.Container, x.Spec, caPath)));
    }

    [Fact]
    public void Every_mounted_secret_is_created_by_a_documented_command()
    {
        var documented = CreateAnySecret().Matches(File.ReadAllText(Tools.PathOf("docs", "operations.md"))).Select(m => m.Groups[1].Value).ToHashSet();
        var mounted = ManifestChecks.Workloads(Prod)
            .SelectMany(w => (w.PodSpec["volumes"]?.AsArray() ?? []).Select(v => (string?)v?["secret"]?["secretName"]))
            .OfType<string>()
            .ToHashSet();

        Assert.Subset(documented, mounted);
    }

    [Fact]
    public void Only_proxies_and_cache_nodes_reach_the_internal_port_of_a_cache_node()
    {
        var policy = Policy("readhistory-cache-ingress");
        var rules = policy["spec"]!["ingress"]!.AsArray().OfType<JsonObject>().ToList();
        var internalRules = rules.Where(r => Ports(r).Contains(ManifestChecks.InternalGrpcPort)).ToList();

        Assert.Equal("cache", Component(policy["spec"]!["podSelector"]!));
        Assert.Contains("Ingress", policy["spec"]!["policyTypes"]!.AsArray().Select(t => (string?)t));
        var rule = Assert.Single(internalRules);
        Assert.Equal(["cache", "proxy"], rule["from"]!.AsArray().Select(f => Component(f!["podSelector"]!)).Order());
        Assert.All(rules.Where(r => r["from"] is null), r => Assert.Equal([ManifestChecks.HttpPort], Ports(r)));
    }

    [Fact]
    public void Proxies_reach_only_the_cache_nodes_internal_port_and_dns_never_the_databases()
    {
        var policy = Policy("readhistory-proxy-egress");
        var ports = policy["spec"]!["egress"]!.AsArray().OfType<JsonObject>().SelectMany(Ports).ToHashSet();

        Assert.Equal("proxy", Component(policy["spec"]!["podSelector"]!));
        Assert.Equal([53, ManifestChecks.InternalGrpcPort], ports.Order());
        Assert.DoesNotContain(ManifestChecks.OfKind(Prod, "NetworkPolicy"), p => p != policy && SelectsComponent(p, "proxy"));
    }

    [Fact]
    public void Only_cache_nodes_the_cdc_and_the_migrate_job_may_reach_mariadb_and_redis()
    {
        var policy = Policy("readhistory-data-egress");
        var ports = policy["spec"]!["egress"]!.AsArray().OfType<JsonObject>().SelectMany(Ports).ToHashSet();
        var selected = policy["spec"]!["podSelector"]!["matchExpressions"]!.AsArray().Single()!["values"]!.AsArray().Select(v => (string?)v).Order();

        Assert.Contains(MariaDbPort, ports);
        Assert.Contains(RedisTlsPort, ports);
        Assert.Equal(["cache", "cdc", "migrate"], selected);
        Assert.Contains("Egress", policy["spec"]!["policyTypes"]!.AsArray().Select(t => (string?)t));
    }

    private static (JsonObject Container, JsonObject Spec) Container(string workload)
    {
        var (_, _, spec, _) = ManifestChecks.Workloads(Prod).Single(w => w.Id == workload);
        return (ManifestChecks.Containers(spec).First(), spec);
    }

    private static JsonObject? Env(JsonObject container, string name) =>
        (container["env"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(e => (string?)e["name"] == name);

    // The Secret mounted (read-only) at the folder holding path, or null.
    private static string? SecretBehind(JsonObject container, JsonObject spec, string? path)
    {
        Assert.False(string.IsNullOrEmpty(path), "no path configured");
        var mount = (container["volumeMounts"]?.AsArray() ?? []).OfType<JsonObject>()
            .FirstOrDefault(m => path!.StartsWith((string?)m["mountPath"] + "/", StringComparison.Ordinal) && (bool?)m["readOnly"] == true);
        var volume = (spec["volumes"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(v => mount is not null && (string?)v["name"] == (string?)mount["name"]);
        return (string?)volume?["secret"]?["secretName"];
    }

    private static JsonObject Policy(string name) =>
        ManifestChecks.Find(Prod, "NetworkPolicy", name) ?? throw new InvalidOperationException("no NetworkPolicy " + name);

    private static List<int> Ports(JsonObject rule) =>
        (rule["ports"]?.AsArray() ?? []).Select(p => (int)p!["port"]!).Distinct().ToList();

    private static string? Component(JsonNode selector) => (string?)selector["matchLabels"]?["app.kubernetes.io/component"];

    private static bool SelectsComponent(JsonObject policy, string component) =>
        Component(policy["spec"]!["podSelector"]!) == component
        || (policy["spec"]!["podSelector"]!["matchExpressions"]?.AsArray() ?? []).Any(e => e!["values"]!.AsArray().Any(v => (string?)v == component));
}
