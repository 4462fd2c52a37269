using System.Globalization;
using ReadHistory.Api.Internal.V1;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Grpc.Net.Client;
using Grpc.Health.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using HealthClient = Grpc.Health.V1.Health.HealthClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// An in-process cluster: cache-role hosts per pool × slot × replica and one proxy host routing to them, one shared
/// schema. The internal traffic (proxy → node probes and calls) runs over mutual TLS with certificates of a CA of the
/// cluster's own, as in production.
/// </summary>
internal sealed class ProxyCluster : IAsyncDisposable
{
    private readonly List<TestHost?> _nodes;
    private readonly TestCertificateAuthority _ca;

    private ProxyCluster(TestCertificateAuthority ca, TestHost proxy, List<TestHost?> nodes, List<(string Pool, int Slot, int Replica)> places, string connectionString, string prefix)
    {
        _ca = ca;
        Proxy = proxy;
        _nodes = nodes;
        Places = places;
        ConnectionString = connectionString;
        Prefix = prefix;
        Channel = GrpcChannel.ForAddress(proxy.Grpc);
        Invoker = Channel.CreateCallInvoker();
    }

    public TestHost Proxy { get; }

    public GrpcChannel Channel { get; }

    /// <summary>Calls to the proxy's public API.</summary>
    public CallInvoker Invoker { get; }

    public List<(string Pool, int Slot, int Replica)> Places { get; }

    public string ConnectionString { get; }

    public string Prefix { get; }

    /// <summary>
    /// Starts the nodes of <paramref name="pools"/> (with <paramref name="nodeSettings"/> added to theirs) then the proxy,
    /// with <paramref name="proxySettings"/> added to its settings and <paramref name="moreProxyConfiguration"/> to its
    /// configuration sources (a reloadable file).
    /// </summary>
    public static async Task<ProxyCluster> StartAsync(string connectionString, (string Name, string[] Tenants, int Slots, int Replicas)[] pools, Dictionary<string, string?>? proxySettings = null, Dictionary<string, string?>? nodeSettings = null, Action<ConfigurationManager>? moreProxyConfiguration = null)
    {
        var prefix = "proxy" + Guid.NewGuid().ToString("N")[..8];
        var ca = TestCertificateAuthority.Create();
        var places = new List<(string, int, int)>();
        var nodes = new List<TestHost?>();
        foreach (var (name, _, slots, replicas) in pools)
        {
            for (var s = 0; s < slots; s++)
            {
                for (var r = 0; r < replicas; r++)
                {
                    places.Add((name, s, r));
                    nodes.Add(await StartNodeAsync(connectionString, prefix, name, WithInternalTls(ca, "cache", nodeSettings)));
                }
            }
        }

        var settings = TestHost.Settings("proxy", connectionString, prefix);
        foreach (var (key, value) in ca.InternalTlsSettings(ca.Issue("proxy")))
        {
            settings[key] = value;
        }

        settings["ReadHistory:Proxy:HealthCheckInterval"] = "00:00:00.100";
        settings["ReadHistory:Proxy:HealthCheckTimeout"] = "00:00:00.500";
        settings["ReadHistory:Proxy:BreakDuration"] = "00:00:01";
        for (var p = 0; p < pools.Length; p++)
        {
            settings[$"ReadHistory:Topology:Pools:{p}:Name"] = pools[p].Name;
            for (var t = 0; t < pools[p].Tenants.Length; t++)
            {
                settings[$"ReadHistory:Topology:Pools:{p}:Tenants:{t}"] = pools[p].Tenants[t];
            }
        }

        for (var n = 0; n < nodes.Count; n++)
        {
            var (pool, slot, replica) = places[n];
            var p = Array.FindIndex(pools, x => x.Name == pool);
            settings[$"ReadHistory:Topology:Pools:{p}:Slots:{slot}:Replicas:{replica}"] = nodes[n]!.Internal.ToString().TrimEnd('/');
        }

        foreach (var (key, value) in proxySettings ?? [])
        {
            settings[key] = value;
        }

        var proxy = await TestHost.StartReadyAsync(settings, moreProxyConfiguration);
        await WaitAllHealthyAsync(proxy, nodes.Count);
        return new ProxyCluster(ca, proxy, nodes, places, connectionString, prefix);
    }

    /// <summary>Starts one more cache node on the cluster's schema, with a certificate of the cluster's CA.</summary>
    public Task<TestHost> StartNodeAsync(string pool) => StartNodeAsync(ConnectionString, Prefix, pool, WithInternalTls(_ca, "cache", extra: null));

    private static Dictionary<string, string?> WithInternalTls(TestCertificateAuthority ca, string subject, Dictionary<string, string?>? extra)
    {
        var settings = ca.InternalTlsSettings(ca.Issue(subject));
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Waits until the proxy's readhistory_proxy_replica_healthy gauge shows every replica routable.</summary>
    public static async Task WaitAllHealthyAsync(TestHost proxy, int replicas)
    {
        using var http = new HttpClient();
        // Health probes are slow on a loaded machine.
        await Poll.UntilAsync(
            async () =>
            {
                var lines = (await http.GetStringAsync(new Uri(proxy.Http, "/metrics")))
                    .Split('\n')
                    .Where(l => l.StartsWith("readhistory_proxy_replica_healthy{", StringComparison.Ordinal))
                    .ToList();
                return lines.Count == replicas && lines.All(l => l.EndsWith(" 1", StringComparison.Ordinal));
            },
            "the proxy to see every replica healthy");
    }

    /// <summary>Starts one more cache node on the cluster's schema.</summary>
    public static async Task<TestHost> StartNodeAsync(string connectionString, string prefix, string pool, Dictionary<string, string?>? extra = null)
    {
        var settings = TestHost.Settings("cache", connectionString, prefix);
        settings["ReadHistory:Cache:Pool"] = pool;
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var node = await TestHost.StartReadyAsync(settings);

        // /readyz can turn ready before the node's grpc.health.v1 status (what the proxy probes) follows it.
        using var channel = node.InternalChannel();
        var invoker = channel.CreateCallInvoker();
        // Health probes are slow on a loaded machine.
        await Poll.UntilAsync(
            () => new HealthClient(invoker).CheckAsync(new HealthCheckRequest(), TestHost.Deadline()).ResponseAsync,
            static health => health.Status == HealthCheckResponse.Types.ServingStatus.Serving,
            "the cache node to report SERVING");
        return node;
    }

    /// <summary>The node at a place.</summary>
    public TestHost Node(string pool, int slot, int replica) => _nodes[Places.IndexOf((pool, slot, replica))]!;

    /// <summary>Stops and disposes the node at a place (a replica dies).</summary>
    public async Task KillAsync(string pool, int slot, int replica)
    {
        var index = Places.IndexOf((pool, slot, replica));
        var node = _nodes[index]!;
        _nodes[index] = null;
        await node.DisposeAsync();
    }

    /// <summary>Lookups (hits + misses) a node has served.</summary>
    public static async Task<ulong> LookupsAsync(TestHost node)
    {
        using var channel = node.InternalChannel();
        var stats = await new CacheNodeClient(channel.CreateCallInvoker()).StatsAsync(new StatsRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        return stats.Pools.Aggregate(0UL, (sum, p) => sum + p.Hits + p.Misses);
    }

    /// <summary>Call options with a deadline of <paramref name="milliseconds"/>.</summary>
    public static CallOptions Within(int milliseconds) => new(deadline: DateTime.UtcNow.AddMilliseconds(milliseconds));

    public static string Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds).ToString("c", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Proxy.DisposeAsync();
        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        _ca.Dispose();
    }
}
