using System.Globalization;
using System.Net;
using ReadHistory.TestSupport;

namespace ReadHistory.Chaos;

/// <summary>
/// The topology under test on private servers: MariaDB (MyRocks, ROW binlog), Redis (AOF, appendfsync everysec),
/// one CDC, 2 slots × 2 replicas and 2 proxies, every process reading the same topology. With a
/// <see cref="NetworkLab"/>, slot 0's replica 1 runs in its own namespace and everything else listens on the lab's
/// root address (Redis on its own); without one, everything is on 127.0.0.1.
/// </summary>
internal sealed class ServiceCluster : IAsyncDisposable
{
    /// <summary>Slots of the one pool.</summary>
    public const int Slots = 2;

    /// <summary>Replicas per slot.</summary>
    public const int ReplicasPerSlot = 2;

    private readonly List<ServiceProcess> _all = [];

    // The internal CA: proxies, replicas and peers talk over mutual TLS with certificates it issues, as in production.
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("readhistory-chaos-ca");

    private ServiceCluster(MariaDbServer database, RedisServer redis, string hostAddress, string redisAddress)
    {
        Database = database;
        Redis = redis;
        HostAddress = hostAddress;
        RedisAddress = redisAddress;
    }

    /// <summary>The database server.</summary>
    public MariaDbServer Database { get; }

    /// <summary>The Redis server.</summary>
    public RedisServer Redis { get; }

    /// <summary>Where MariaDB and the root-namespace processes listen.</summary>
    public string HostAddress { get; }

    /// <summary>Where Redis listens.</summary>
    public string RedisAddress { get; }

    /// <summary>The CDC process.</summary>
    public ServiceProcess Cdc { get; private set; } = null!;

    /// <summary>Cache replicas, [slot, replica].</summary>
    public ServiceProcess[,] Replicas { get; } = new ServiceProcess[Slots, ReplicasPerSlot];

    /// <summary>The proxies.</summary>
    public ServiceProcess[] Proxies { get; } = new ServiceProcess[2];

    /// <summary>The proxies' public gRPC endpoints.</summary>
    public List<DnsEndPoint> ProxyEndpoints { get; } = [];

    /// <summary>The replica in the lab's namespace (slot 0, replica 1), when there is a lab.</summary>
    public ServiceProcess? Isolated { get; private set; }

    /// <summary>Every service process.</summary>
    public IReadOnlyList<ServiceProcess> Processes => _all;

    /// <summary>A connection string for the database as seen from the root namespace.</summary>
    public string ConnectionString => DatabaseConnection(HostAddress);

    /// <summary>Starts the servers, migrates, starts every process and waits until each is ready.</summary>
    public static async Task<ServiceCluster> StartAsync(string serverDll, NetworkLab? lab, string logFolder, TextWriter log, TimeSpan readyLimit, CancellationToken cancellationToken)
    {
        var host = lab?.HostAddress ?? "127.0.0.1";
        var redisHost = lab?.RedisAddress ?? "127.0.0.1";
        log.WriteLine("starting MariaDB (MyRocks, ROW binlog) and Redis (appendonly yes, appendfsync everysec) on " + host + " / " + redisHost);
        string[] databaseBind = lab is null ? [] : ["--bind-address=127.0.0.1," + host];
        string[] redisBind = lab is null ? [] : ["--bind", "127.0.0.1", redisHost, "--protected-mode", "no"];
        var startDatabase = MariaDbServer.StartAsync(new MariaDbServerOptions { ExtraArguments = [.. databaseBind, "--max-connections=1000"] });
        var startRedis = RedisServer.StartAsync(redisBind);
        MariaDbServer? database = null;
        RedisServer? redis = null;
        try
        {
            database = await startDatabase;
            redis = await startRedis;
        }
        catch
        {
            if (database is not null)
            {
                await database.DisposeAsync();
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }
            else if (startRedis.IsCompletedSuccessfully)
            {
                await startRedis.Result.DisposeAsync();
            }

            throw;
        }

        var cluster = new ServiceCluster(database, redis, host, redisHost);
        try
        {
            await cluster.LaunchAsync(serverDll, lab, logFolder, log, readyLimit, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until every process is ready; false past <paramref name="limit"/> (names those that are not in <paramref name="notReady"/>).</summary>
    public async Task<bool> WaitAllReadyAsync(TimeSpan limit, List<string> notReady, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            notReady.Clear();
            foreach (var process in _all)
            {
                if (!await process.IsReadyAsync(cancellationToken))
                {
                    notReady.Add(process.Name);
                }
            }

            if (notReady.Count == 0)
            {
                return true;
            }

            if (clock.Elapsed > limit)
            {
                return false;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Whether the CDC holds the publisher lease (its readhistory_cdc_leader gauge).</summary>
    public async Task<bool> CdcLeadsAsync(CancellationToken cancellationToken) =>
        await Cdc.IsReadyAsync(cancellationToken) && await Cdc.GaugeAsync("readhistory_cdc_leader", cancellationToken) == 1;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Every process at once: each gets SIGTERM, then SIGKILL past the grace.
        await Task.WhenAll(_all.Select(static p => p.DisposeAsync().AsTask()));
        await Redis.DisposeAsync();
        await Database.DisposeAsync();
        _ca.Dispose();
    }

    private async Task LaunchAsync(string serverDll, NetworkLab? lab, string logFolder, TextWriter log, TimeSpan readyLimit, CancellationToken cancellationToken)
    {
        // A cache replica's public gRPC, internal gRPC (what the topology names: proxies and peers call it) and HTTP.
        var endpoints = new (string Grpc, string Internal, string Http)[Slots, ReplicasPerSlot];
        // Settings every process shares: the topology and the internal TLS.
        var shared = new Dictionary<string, string> { ["ReadHistory__Topology__Pools__0__Name"] = "default" };
        for (var slot = 0; slot < Slots; slot++)
        {
            for (var replica = 0; replica < ReplicasPerSlot; replica++)
            {
                var address = lab is not null && slot == 0 && replica == 1 ? lab.IsolatedAddress : HostAddress;
                endpoints[slot, replica] = (Endpoint(address), Endpoint(address), Endpoint(address));
                shared[Invariant($"ReadHistory__Topology__Pools__0__Slots__{slot}__Replicas__{replica}")] = "https://" + endpoints[slot, replica].Internal;
            }
        }

        // One certificate for every process of the cluster, naming both addresses a replica may listen on.
        string[] addresses = lab is null ? [HostAddress] : [HostAddress, lab.IsolatedAddress];
        foreach (var (key, value) in _ca.InternalTlsSettings(_ca.Issue("readhistory-chaos", addresses.Distinct().Where(a => a != "127.0.0.1").ToArray())))
        {
            shared[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        }

        Dictionary<string, string> Environment(string name, string roles, string grpc, string http, string databaseHost) => new(shared)
        {
            ["ReadHistory__Roles"] = roles,
            ["ReadHistory__NodeName"] = name,
            ["ReadHistory__GrpcListen"] = grpc,
            ["ReadHistory__HttpListen"] = http,
            // The cluster listens on the lab's private bridge address, not loopback: anonymous access allowed explicitly.
            ["ReadHistory__Auth__AllowAnonymous"] = "true",
            ["ReadHistory__Database__ConnectionString"] = DatabaseConnection(databaseHost),
            ["ReadHistory__Redis__Configuration"] = RedisAddress + ":" + Redis.Port.ToString(CultureInfo.InvariantCulture),
        };

        var migrateListen = (Grpc: Endpoint(HostAddress), Http: Endpoint(HostAddress));
        var migrate = new ServiceProcess("migrate", serverDll, Environment("migrate", "cdc", migrateListen.Grpc, migrateListen.Http, HostAddress), null, migrateListen.Http, logFolder);
        await using (migrate)
        {
            log.WriteLine("readhistory migrate");
            await migrate.RunToCompletionAsync(TimeSpan.FromSeconds(120), cancellationToken, "migrate");
        }

        var cdcListen = (Grpc: Endpoint(HostAddress), Http: Endpoint(HostAddress));
        Cdc = Add(new ServiceProcess("cdc", serverDll, Environment("cdc", "cdc", cdcListen.Grpc, cdcListen.Http, HostAddress), null, cdcListen.Http, logFolder));
        for (var slot = 0; slot < Slots; slot++)
        {
            for (var replica = 0; replica < ReplicasPerSlot; replica++)
            {
                var isolated = lab is not null && slot == 0 && replica == 1;
                var name = Invariant($"cache-s{slot}-r{replica}");
                var environment = Environment(name, "cache", endpoints[slot, replica].Grpc, endpoints[slot, replica].Http, HostAddress);
                environment["ReadHistory__InternalGrpcListen"] = endpoints[slot, replica].Internal;
                environment["ReadHistory__Cache__Slot"] = slot.ToString(CultureInfo.InvariantCulture);
                environment["ReadHistory__Cache__Replica"] = replica.ToString(CultureInfo.InvariantCulture);
                environment["ReadHistory__Cache__ReplicasPerSlot"] = ReplicasPerSlot.ToString(CultureInfo.InvariantCulture);
                Replicas[slot, replica] = Add(new ServiceProcess(name, serverDll, environment, isolated ? lab!.Namespace : null, endpoints[slot, replica].Http, logFolder));
                if (isolated)
                {
                    Isolated = Replicas[slot, replica];
                }
            }
        }

        for (var i = 0; i < Proxies.Length; i++)
        {
            var name = Invariant($"proxy-{i}");
            var port = FreePort.Next();
            var grpc = HostAddress + ":" + port.ToString(CultureInfo.InvariantCulture);
            var http = Endpoint(HostAddress);
            Proxies[i] = Add(new ServiceProcess(name, serverDll, Environment(name, "proxy", grpc, http, HostAddress), null, http, logFolder));
            ProxyEndpoints.Add(new DnsEndPoint(HostAddress, port));
        }

        log.WriteLine("starting " + string.Join(", ", _all.Select(static p => p.Name)) + (lab is null ? string.Empty : " (" + Isolated!.Name + " in namespace " + lab.Namespace + " at " + lab.IsolatedAddress + ")"));
        foreach (var process in _all)
        {
            process.Start();
        }

        var notReady = new List<string>();
        if (!await WaitAllReadyAsync(readyLimit, notReady, cancellationToken))
        {
            throw new TimeoutException("not ready within " + readyLimit + ": " + string.Join(", ", notReady) + "\n"
                + string.Join("\n", _all.Where(p => notReady.Contains(p.Name)).Select(static p => "--- " + p.Name + ":\n" + p.Tail(15))));
        }
    }

    private ServiceProcess Add(ServiceProcess process)
    {
        _all.Add(process);
        return process;
    }

    // A port below the ephemeral range, reserved across processes (FreePort), on the given address.
    private static string Endpoint(string address) => address + ":" + FreePort.Next().ToString(CultureInfo.InvariantCulture);

    private string DatabaseConnection(string host) =>
        Invariant($"Server={host};Port={Database.Port};User ID={MariaDbServer.User};Password={MariaDbServer.Password};SslMode=None");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
