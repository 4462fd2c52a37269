using System.Globalization;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Core.Routing;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Server.IntegrationTests.Coherence;

/// <summary>
/// One slot served by two cache replicas (A and B) kept coherent by a CDC host, all in this process on loopback,
/// against a MariaDB and a Redis given by the test. Replica B can be stopped and started again. The replicas' internal
/// traffic (warm start, and every test's calls to them) runs over mutual TLS with a CA of the cluster's own.
/// </summary>
internal sealed class CoherenceCluster : IAsyncDisposable
{
    private readonly TestCertificateAuthority _ca;
    private readonly Dictionary<string, string?> _cacheSettings;
    private readonly Dictionary<string, string?> _cdcSettings;
    private TestHost? _cdc;
    private TestHost? _b;

    private CoherenceCluster(TestCertificateAuthority ca, TestHost cdc, TestHost a, TestHost b, Dictionary<string, string?> cdcSettings, Dictionary<string, string?> cacheSettings)
    {
        _ca = ca;
        _cdc = cdc;
        _cdcSettings = cdcSettings;
        A = new Replica(a);
        _b = b;
        B = new Replica(b);
        _cacheSettings = cacheSettings;
    }

    /// <summary>Replica A.</summary>
    public Replica A { get; }

    /// <summary>Replica B (a new object after <see cref="StartBAsync(bool)"/>).</summary>
    public Replica B { get; private set; }

    /// <summary>The schema of the cluster's history (one database, one table).</summary>
    public ShardNames Names { get; private init; } = null!;

    /// <summary>
    /// Starts the CDC host and both replicas, each until ready, under a schema and key prefix of their own;
    /// <paramref name="beforeReplicas"/> runs once the CDC host leads and the schema exists (to preload rows).
    /// </summary>
    public static async Task<CoherenceCluster> StartAsync(string connectionString, string redisEndpoint, Func<ShardNames, Task>? beforeReplicas = null)
    {
        var prefix = "rec" + Guid.NewGuid().ToString("N")[..8];
        var names = new ShardNames(prefix, 1, 1);
        var cdcSettings = TestHost.Settings("cdc", connectionString, prefix, redisEndpoint);
        var cdc = await TestHost.StartReadyAsync(cdcSettings);
        if (beforeReplicas is not null)
        {
            await beforeReplicas(names);
        }

        var ca = TestCertificateAuthority.Create();
        var cache = TestHost.Settings("cache", connectionString, prefix, redisEndpoint);
        foreach (var (key, value) in ca.InternalTlsSettings(ca.Issue("cache")))
        {
            cache[key] = value;
        }

        var a = await TestHost.StartReadyAsync(cache);
        var b = await TestHost.StartReadyAsync(cache);
        return new CoherenceCluster(ca, cdc, a, b, cdcSettings, cache) { Names = names };
    }

    /// <summary>Stops the CDC host (it gives its lease up).</summary>
    public async Task StopCdcAsync()
    {
        if (_cdc is { } cdc)
        {
            _cdc = null;
            await cdc.DisposeAsync();
        }
    }

    /// <summary>Starts a new CDC host, without waiting for it to lead (Redis may still be coming back).</summary>
    public async Task StartCdcAsync() => _cdc = await TestHost.StartAsync(_cdcSettings);

    /// <summary>Stops replica B (as a deploy would: graceful stop, its memory gone).</summary>
    public async Task StopBAsync()
    {
        B.Dispose();
        if (_b is { } b)
        {
            _b = null;
            await b.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts a new replica B on new ports, until ready; with <paramref name="warmFromA"/> the topology names A as
    /// its slot peer, so B warm-starts from A's filters and cursor instead of starting cold.
    /// </summary>
    public async Task StartBAsync(bool warmFromA)
    {
        var settings = new Dictionary<string, string?>(_cacheSettings);
        if (warmFromA)
        {
            settings["ReadHistory:Topology:Pools:0:Name"] = "default";
            settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = A.Host.Internal.ToString();
            settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = "https://127.0.0.1:1";
            settings["ReadHistory:Cache:Replica"] = "1";
            settings["ReadHistory:Cache:WarmStartTimeout"] = "00:00:20";
        }

        _b = await TestHost.StartReadyAsync(settings);
        B = new Replica(_b);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopBAsync();
        A.Dispose();
        await A.Host.DisposeAsync();
        await StopCdcAsync();
        _ca.Dispose();
    }

    /// <summary>
    /// A cache replica's host and a client for its internal CacheNode service, opened on first use: a CDC host, read
    /// only for its metrics, has no internal listener.
    /// </summary>
    internal sealed class Replica : IDisposable
    {
        private readonly Lazy<GrpcChannel> _channel;
        private readonly HttpClient _http = new();

        public Replica(TestHost host)
        {
            Host = host;
            _channel = new(host.InternalChannel);
        }

        public TestHost Host { get; }

        public CallInvoker Calls => _channel.Value.CreateCallInvoker();

        /// <summary>MarkRead of <paramref name="ids"/> for <paramref name="user"/> through this replica.</summary>
        public Task<MarkReadResponse> MarkAsync(ulong user, IEnumerable<ulong> ids)
        {
            var request = new MarkReadRequest { UserId = user };
            foreach (var id in ids)
            {
                request.Items.Add(new ReadItem { ContentId = id });
            }

            return new CacheNodeClient(Calls).MarkReadAsync(new CacheMarkReadRequest { Request = request }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        }

        /// <summary>Check of <paramref name="ids"/> for <paramref name="user"/> through this replica.</summary>
        public Task<CheckResponse> CheckAsync(ulong user, IEnumerable<ulong> ids)
        {
            var request = new CheckRequest { UserId = user };
            request.ContentIds.AddRange(ids);
            return new CacheNodeClient(Calls).CheckAsync(new CacheCheckRequest { Request = request }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        }

        /// <summary>Checks <paramref name="ids"/> until <paramref name="done"/> holds (bounded by the default test timeout).</summary>
        public Task<CheckResponse> CheckUntilAsync(ulong user, ulong[] ids, Func<CheckResponse, bool> done) =>
            Poll.UntilAsync(() => CheckAsync(user, ids), done, $"the answer for user {user} to change");

        /// <summary>The sum over labels of a counter in this host's /metrics (0 when it was never incremented).</summary>
        public async Task<double> CounterAsync(string name)
        {
            var text = await _http.GetStringAsync(new Uri(Host.Http, "/metrics")).DefaultTimeout();
            var sum = 0.0;
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is '{' or ' '))
                {
                    sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                }
            }

            return sum;
        }

        public void Dispose()
        {
            if (_channel.IsValueCreated)
            {
                _channel.Value.Dispose();
            }

            _http.Dispose();
        }
    }
}
