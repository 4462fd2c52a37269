using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ReadHistory.Deploy.Tests;

/// <summary>
/// Checks on rendered Kubernetes objects. Each check returns the problems it found (empty = fine), so the
/// tests can both assert a real overlay is clean and prove, on mutated copies, that each check can fail.
/// </summary>
internal static partial class ManifestChecks
{
    public const int GrpcPort = 50051;

    /// <summary>The cache nodes' internal CacheNode listener: the port replica URIs name.</summary>
    public const int InternalGrpcPort = 50052;
    public const int HttpPort = 8080;
    private const string TopologyPrefix = "ReadHistory__Topology__Pools__";

    [GeneratedRegex("password|passwd|pwd|secret|token|credential|connectionstring", RegexOptions.IgnoreCase)]
    private static partial Regex SecretLikeName();

    [GeneratedRegex(@"(password|pwd)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlinePassword();

    [GeneratedRegex(@"^ReadHistory__Topology__Pools__(\d+)__Slots__(\d+)__Replicas__(\d+)$")]
    private static partial Regex ReplicaKey();

    public static IEnumerable<JsonObject> OfKind(JsonArray objects, string kind) =>
        objects.OfType<JsonObject>().Where(o => (string?)o["kind"] == kind);

    public static string Name(JsonNode o) => (string?)o["metadata"]?["name"] ?? "";

    public static JsonObject? Find(JsonArray objects, string kind, string name) =>
        OfKind(objects, kind).FirstOrDefault(o => Name(o) == name);

    public static JsonObject ConfigMap(JsonArray objects)
    {
        var maps = OfKind(objects, "ConfigMap").Where(o => Name(o).StartsWith("readhistory-config", StringComparison.Ordinal)).ToList();
        return maps.Count == 1 ? maps[0] : throw new InvalidOperationException($"expected one readhistory-config ConfigMap, found {maps.Count}");
    }

    public static Dictionary<string, string> ConfigData(JsonArray objects) =>
        (ConfigMap(objects)["data"]?.AsObject() ?? [])
            .ToDictionary(kv => kv.Key, kv => (string?)kv.Value ?? "", StringComparer.Ordinal);

    /// <summary>Deployments, StatefulSets and Jobs: (kind/name, pod spec, pod template labels).</summary>
    public static IEnumerable<(string Id, JsonObject Workload, JsonObject PodSpec, JsonObject Labels)> Workloads(JsonArray objects)
    {
        foreach (var o in objects.OfType<JsonObject>())
        {
            var kind = (string?)o["kind"];
            if (kind is "Deployment" or "StatefulSet" or "Job")
            {
                var template = o["spec"]?["template"];
                yield return ($"{kind}/{Name(o)}", o, template?["spec"]?.AsObject() ?? [], template?["metadata"]?["labels"]?.AsObject() ?? []);
            }
        }
    }

    public static IEnumerable<JsonObject> Containers(JsonObject podSpec) =>
        (podSpec["initContainers"]?.AsArray() ?? []).Concat(podSpec["containers"]?.AsArray() ?? []).OfType<JsonObject>();

    public static string? EnvValue(JsonObject container, string name) =>
        (string?)(container["env"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(e => (string?)e["name"] == name)?["value"];

    private static bool Selects(JsonObject? selector, JsonObject labels) =>
        selector is { Count: > 0 } && selector.All(kv => (string?)labels[kv.Key] == (string?)kv.Value);

    /// <summary>The objects every overlay must have, plus one cache StatefulSet, headless Service and PDB per pool.</summary>
    public static List<string> RequiredObjects(JsonArray objects, IEnumerable<string> pools)
    {
        var required = new List<(string Kind, string Name)>
        {
            ("Deployment", "readhistory-proxy"), ("Service", "readhistory-proxy"), ("HorizontalPodAutoscaler", "readhistory-proxy"),
            ("PodDisruptionBudget", "readhistory-proxy"), ("Deployment", "readhistory-cdc"), ("PodDisruptionBudget", "readhistory-cdc"),
            ("Job", "readhistory-migrate"), ("ServiceAccount", "readhistory"),
        };
        foreach (var pool in pools)
        {
            required.Add(("StatefulSet", "readhistory-cache-" + pool));
            required.Add(("Service", "readhistory-cache-" + pool));
            required.Add(("PodDisruptionBudget", "readhistory-cache-" + pool));
        }

        var problems = required.Where(r => Find(objects, r.Kind, r.Name) is null).Select(r => $"missing {r.Kind}/{r.Name}").ToList();
        var migrate = Find(objects, "Job", "readhistory-migrate");
        if (migrate is not null)
        {
            var args = migrate["spec"]?["template"]?["spec"]?["containers"]?[0]?["args"]?.AsArray().Select(a => (string?)a).ToList();
            if (args is null || args.Count != 1 || args[0] != "migrate")
            {
                problems.Add("Job/readhistory-migrate must run `readhistory migrate` (args: [migrate])");
            }
        }

        var hpa = Find(objects, "HorizontalPodAutoscaler", "readhistory-proxy");
        if (hpa is not null && Find(objects, (string?)hpa["spec"]?["scaleTargetRef"]?["kind"] ?? "", (string?)hpa["spec"]?["scaleTargetRef"]?["name"] ?? "") is null)
        {
            problems.Add("HPA readhistory-proxy targets an object that does not exist");
        }

        if (Find(objects, "Deployment", "readhistory-proxy")?["spec"]?["replicas"] is not null)
        {
            problems.Add("Deployment/readhistory-proxy sets spec.replicas although the HPA owns it");
        }

        return problems;
    }

    /// <summary>Probes on long-running containers; security context, resources and /tmp on every container.</summary>
    public static List<string> PodHygiene(JsonArray objects)
    {
        var problems = new List<string>();
        foreach (var (id, workload, spec, _) in Workloads(objects))
        {
            var longRunning = !id.StartsWith("Job/", StringComparison.Ordinal);
            var podSecurity = spec["securityContext"]?.AsObject();
            if ((bool?)podSecurity?["runAsNonRoot"] != true)
            {
                problems.Add($"{id}: pod securityContext.runAsNonRoot is not true");
            }

            if ((string?)podSecurity?["seccompProfile"]?["type"] != "RuntimeDefault")
            {
                problems.Add($"{id}: pod seccompProfile is not RuntimeDefault");
            }

            if ((bool?)spec["automountServiceAccountToken"] != false)
            {
                problems.Add($"{id}: automountServiceAccountToken is not false");
            }

            var tmpVolumes = (spec["volumes"]?.AsArray() ?? []).OfType<JsonObject>().Where(v => v["emptyDir"] is not null).Select(v => (string?)v["name"]).ToHashSet();
            foreach (var c in Containers(spec))
            {
                var cid = $"{id} container {(string?)c["name"]}";
                var sc = c["securityContext"]?.AsObject();
                if ((bool?)sc?["allowPrivilegeEscalation"] != false)
                {
                    problems.Add($"{cid}: allowPrivilegeEscalation is not false");
                }

                if ((bool?)sc?["readOnlyRootFilesystem"] != true)
                {
                    problems.Add($"{cid}: readOnlyRootFilesystem is not true");
                }

                if (!(sc?["capabilities"]?["drop"]?.AsArray() ?? []).Any(d => (string?)d == "ALL"))
                {
                    problems.Add($"{cid}: capabilities do not drop ALL");
                }

                if ((string?)(sc?["seccompProfile"]?["type"] ?? podSecurity?["seccompProfile"]?["type"]) != "RuntimeDefault")
                {
                    problems.Add($"{cid}: seccompProfile is not RuntimeDefault");
                }

                foreach (var section in new[] { "requests", "limits" })
                {
                    foreach (var resource in new[] { "cpu", "memory" })
                    {
                        if (c["resources"]?[section]?[resource] is null)
                        {
                            problems.Add($"{cid}: no resources.{section}.{resource}");
                        }
                    }
                }

                var tmp = (c["volumeMounts"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(m => (string?)m["mountPath"] == "/tmp");
                if (tmp is null || !tmpVolumes.Contains((string?)tmp["name"]))
                {
                    problems.Add($"{cid}: /tmp is not an emptyDir mount");
                }

                if (longRunning)
                {
                    CheckProbe(problems, cid, c, "readinessProbe", "/readyz");
                    CheckProbe(problems, cid, c, "livenessProbe", "/healthz");
                }
            }
        }

        return problems;
    }

    private static void CheckProbe(List<string> problems, string cid, JsonObject container, string probe, string path)
    {
        var get = container[probe]?["httpGet"];
        if (get is null)
        {
            problems.Add($"{cid}: no {probe} (httpGet {path})");
            return;
        }

        if ((string?)get["path"] != path)
        {
            problems.Add($"{cid}: {probe} path is {(string?)get["path"]}, expected {path}");
        }

        if (ResolvePort(container, get["port"]) != HttpPort)
        {
            problems.Add($"{cid}: {probe} does not probe port {HttpPort}");
        }
    }

    private static int? ResolvePort(JsonObject container, JsonNode? port)
    {
        if (port is JsonValue v && v.TryGetValue<int>(out var number))
        {
            return number;
        }

        var name = (string?)port;
        return (int?)(container["ports"]?.AsArray() ?? []).OfType<JsonObject>().FirstOrDefault(p => (string?)p["name"] == name)?["containerPort"];
    }

    /// <summary>No Secret objects, no inline secret values in env or the ConfigMap; secret-like env comes from secretKeyRef.</summary>
    public static List<string> NoInlineSecrets(JsonArray objects)
    {
        var problems = OfKind(objects, "Secret").Select(s => $"Secret/{Name(s)} is defined in the manifests (create it with kubectl, see docs/operations.md)").ToList();
        foreach (var map in OfKind(objects, "ConfigMap"))
        {
            foreach (var (key, value) in map["data"]?.AsObject() ?? [])
            {
                if (SecretLikeName().IsMatch(key) || InlinePassword().IsMatch((string?)value ?? ""))
                {
                    problems.Add($"ConfigMap/{Name(map)} holds a secret-looking entry {key}");
                }
            }
        }

        foreach (var (id, _, spec, _) in Workloads(objects))
        {
            foreach (var c in Containers(spec))
            {
                foreach (var env in (c["env"]?.AsArray() ?? []).OfType<JsonObject>())
                {
                    var name = (string?)env["name"] ?? "";
                    var value = (string?)env["value"];
                    if (value is not null && (SecretLikeName().IsMatch(name) || InlinePassword().IsMatch(value)))
                    {
                        problems.Add($"{id}: env {name} has an inline value");
                    }

                    if (value is null && SecretLikeName().IsMatch(name) && env["valueFrom"]?["secretKeyRef"] is null)
                    {
                        problems.Add($"{id}: env {name} does not come from a secretKeyRef");
                    }
                }
            }
        }

        return problems;
    }

    /// <summary>Secret (name, key) pairs the workloads reference.</summary>
    public static HashSet<(string Name, string Key)> SecretRefs(JsonArray objects) =>
        Workloads(objects)
            .SelectMany(w => Containers(w.PodSpec))
            .SelectMany(c => (c["env"]?.AsArray() ?? []).OfType<JsonObject>())
            .Select(e => e["valueFrom"]?["secretKeyRef"])
            .Where(r => r is not null)
            .Select(r => ((string?)r!["name"] ?? "", (string?)r["key"] ?? ""))
            .ToHashSet();

    /// <summary>
    /// The topology in the ConfigMap against the StatefulSets: per pool, slots x ReplicasPerSlot = replicas, and the
    /// URI of slot s replica r names pod ordinal s*R+r of that pool's StatefulSet through its headless Service.
    /// </summary>
    public static List<string> Topology(JsonArray objects)
    {
        var problems = new List<string>();
        var data = ConfigData(objects);
        var pools = data.Where(kv => kv.Key.StartsWith(TopologyPrefix, StringComparison.Ordinal) && kv.Key.EndsWith("__Name", StringComparison.Ordinal))
            .ToDictionary(kv => int.Parse(kv.Key[TopologyPrefix.Length..kv.Key.IndexOf("__Name", StringComparison.Ordinal)], CultureInfo.InvariantCulture), kv => kv.Value);
        if (pools.Count == 0)
        {
            problems.Add("the ConfigMap has no topology");
        }

        var replicas = data.Select(kv => (kv, m: ReplicaKey().Match(kv.Key))).Where(x => x.m.Success)
            .Select(x => (Pool: int.Parse(x.m.Groups[1].Value, CultureInfo.InvariantCulture), Slot: int.Parse(x.m.Groups[2].Value, CultureInfo.InvariantCulture),
                Replica: int.Parse(x.m.Groups[3].Value, CultureInfo.InvariantCulture), Uri: x.kv.Value))
            .ToList();

        var cacheSets = OfKind(objects, "StatefulSet").ToList();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (index, pool) in pools)
        {
            var matching = cacheSets.Where(s => Containers(s["spec"]?["template"]?["spec"]?.AsObject() ?? []).Any(c => EnvValue(c, "ReadHistory__Cache__Pool") == pool)).ToList();
            if (matching.Count != 1)
            {
                problems.Add($"pool {pool}: expected one StatefulSet with ReadHistory__Cache__Pool={pool}, found {matching.Count}");
                continue;
            }

            var set = matching[0];
            var setName = Name(set);
            covered.Add(setName);
            var container = Containers(set["spec"]!["template"]!["spec"]!.AsObject()).First(c => EnvValue(c, "ReadHistory__Cache__Pool") == pool);
            if (!int.TryParse(EnvValue(container, "ReadHistory__Cache__ReplicasPerSlot"), NumberStyles.None, CultureInfo.InvariantCulture, out var perSlot) || perSlot < 1)
            {
                problems.Add($"StatefulSet/{setName}: ReadHistory__Cache__ReplicasPerSlot is missing or invalid");
                continue;
            }

            if (EnvValue(container, "ReadHistory__Roles") != "cache")
            {
                problems.Add($"StatefulSet/{setName}: ReadHistory__Roles is not cache");
            }

            var own = replicas.Where(r => r.Pool == index).ToList();
            var slots = own.Select(r => r.Slot).Distinct().Order().ToList();
            if (slots.Count == 0 || slots[^1] != slots.Count - 1)
            {
                problems.Add($"pool {pool}: slots are not numbered 0..n-1 ({string.Join(",", slots)})");
            }

            foreach (var slot in slots)
            {
                var indices = own.Where(r => r.Slot == slot).Select(r => r.Replica).Order().ToList();
                if (!indices.SequenceEqual(Enumerable.Range(0, perSlot)))
                {
                    problems.Add($"pool {pool} slot {slot}: replicas {string.Join(",", indices)}, expected 0..{perSlot - 1} (ReplicasPerSlot={perSlot})");
                }
            }

            var setReplicas = (int?)set["spec"]?["replicas"] ?? 1;
            if (setReplicas != slots.Count * perSlot)
            {
                problems.Add($"StatefulSet/{setName}: replicas {setReplicas} but the topology has {slots.Count} slots x {perSlot} replicas");
            }

            var serviceName = (string?)set["spec"]?["serviceName"] ?? "";
            var service = Find(objects, "Service", serviceName);
            var podLabels = set["spec"]?["template"]?["metadata"]?["labels"]?.AsObject() ?? [];
            if (service is null)
            {
                problems.Add($"StatefulSet/{setName}: headless Service {serviceName} does not exist");
            }
            else
            {
                if ((string?)service["spec"]?["clusterIP"] != "None")
                {
                    problems.Add($"Service/{serviceName} is not headless (clusterIP: None)");
                }

                if (!Selects(service["spec"]?["selector"]?.AsObject(), podLabels))
                {
                    problems.Add($"Service/{serviceName} does not select the pods of StatefulSet/{setName}");
                }

                if (!(service["spec"]?["ports"]?.AsArray() ?? []).Any(p => (int?)p?["port"] == InternalGrpcPort))
                {
                    problems.Add($"Service/{serviceName} has no port {InternalGrpcPort}");
                }
            }

            if (!(container["ports"]?.AsArray() ?? []).Any(p => (int?)p?["containerPort"] == InternalGrpcPort))
            {
                problems.Add($"StatefulSet/{setName}: the container does not expose {InternalGrpcPort}");
            }

            foreach (var r in own)
            {
                var ordinal = (r.Slot * perSlot) + r.Replica;
                var expectedHost = $"{setName}-{ordinal}.{serviceName}";
                if (!Uri.TryCreate(r.Uri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    problems.Add($"pool {pool} slot {r.Slot} replica {r.Replica}: {r.Uri} is not an http(s):// URI");
                }
                else if ((uri.Host != expectedHost && !uri.Host.StartsWith(expectedHost + ".", StringComparison.Ordinal)) || uri.Port != InternalGrpcPort)
                {
                    problems.Add($"pool {pool} slot {r.Slot} replica {r.Replica}: {r.Uri} should name pod {setName}-{ordinal} via {serviceName} on port {InternalGrpcPort}");
                }
                else if (ordinal >= setReplicas)
                {
                    problems.Add($"pool {pool} slot {r.Slot} replica {r.Replica}: pod {setName}-{ordinal} does not exist (replicas {setReplicas})");
                }
            }
        }

        foreach (var set in cacheSets.Where(s => !covered.Contains(Name(s))))
        {
            problems.Add($"StatefulSet/{Name(set)} serves a pool that is not in the topology");
        }

        return problems;
    }

    /// <summary>Every PDB selects the pods of an existing workload; cache PDBs allow at most one pod down.</summary>
    public static List<string> DisruptionBudgets(JsonArray objects)
    {
        var problems = new List<string>();
        var podLabels = Workloads(objects).Where(w => !w.Id.StartsWith("Job/", StringComparison.Ordinal)).ToList();
        foreach (var pdb in OfKind(objects, "PodDisruptionBudget"))
        {
            var selector = pdb["spec"]?["selector"]?["matchLabels"]?.AsObject();
            var selected = podLabels.Where(w => Selects(selector, w.Labels)).Select(w => w.Id).ToList();
            if (selected.Count == 0)
            {
                problems.Add($"PodDisruptionBudget/{Name(pdb)} selects no pods");
            }

            if (selected.Any(id => id.StartsWith("StatefulSet/", StringComparison.Ordinal)) && (int?)pdb["spec"]?["maxUnavailable"] != 1)
            {
                problems.Add($"PodDisruptionBudget/{Name(pdb)} on cache nodes must be maxUnavailable: 1");
            }
        }

        foreach (var service in OfKind(objects, "Service"))
        {
            if (!podLabels.Any(w => Selects(service["spec"]?["selector"]?.AsObject(), w.Labels)))
            {
                problems.Add($"Service/{Name(service)} selects no pods");
            }
        }

        return problems;
    }

    /// <summary>Cache nodes and proxies drain: a preStop hook, and a grace period longer than preStop + ShutdownGrace.</summary>
    public static List<string> GracefulShutdown(JsonArray objects)
    {
        var problems = new List<string>();
        var data = ConfigData(objects);
        if (!data.TryGetValue("ReadHistory__ShutdownGrace", out var graceText) || !TimeSpan.TryParse(graceText, CultureInfo.InvariantCulture, out var grace))
        {
            return ["ReadHistory__ShutdownGrace is not set in the ConfigMap"];
        }

        foreach (var (id, _, spec, labels) in Workloads(objects))
        {
            if ((string?)labels["app.kubernetes.io/component"] is not ("cache" or "proxy"))
            {
                continue;
            }

            var period = (int?)spec["terminationGracePeriodSeconds"] ?? 30;
            foreach (var c in Containers(spec))
            {
                var preStop = c["lifecycle"]?["preStop"];
                if (preStop is null)
                {
                    problems.Add($"{id}: no preStop hook");
                    continue;
                }

                var sleep = (int?)preStop["sleep"]?["seconds"] ?? 0;
                if (period <= grace.TotalSeconds + sleep)
                {
                    problems.Add($"{id}: terminationGracePeriodSeconds {period} is not above preStop {sleep} s + ShutdownGrace {grace.TotalSeconds} s");
                }
            }
        }

        return problems;
    }

    /// <summary>All namespaced objects in one namespace.</summary>
    public static List<string> OneNamespace(JsonArray objects, string expected) =>
        objects.OfType<JsonObject>()
            .Where(o => (string?)o["kind"] != "Namespace" && (string?)o["metadata"]?["namespace"] != expected)
            .Select(o => $"{(string?)o["kind"]}/{Name(o)} is not in namespace {expected}")
            .ToList();
}
