using ReadHistory.Server.Api.Admission;
using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Internal;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Coherence;
using ReadHistory.Server.Proxy;
using ReadHistory.Server.Storage;
using ReadHistory.Server.Tls;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Registers each role's services in the container: what it runs in the background, what its gRPC services need,
/// and the readiness checks it owns. <see cref="ServerHost"/> calls them by the configured roles; everything is
/// created by the container when first needed (hosted services when the host starts).
/// </summary>
internal static class RoleRegistration
{
    /// <summary>
    /// The cache role: the database connector, the node's cache, its peer fan-out, the internal CacheNode service (with
    /// its Snapshot binding) and, with Redis, the coherence tailer. Readiness: "database", "cache" and, with Redis, "coherence".
    /// </summary>
    public static IServiceCollection AddCacheRole(this IServiceCollection services, bool withRedis)
    {
        services.AddDatabase();
        services.AddNodePlacement();

        // The peer fan-out (Cache:PeerFanOut): the cache's committed changes also go to the slot's other replicas (none
        // without a topology listing them: role all, a single replica).
        services.AddSingleton(static provider =>
        {
            var options = provider.GetRequiredService<IOptions<CacheNodeOptions>>().Value;
            var topology = provider.GetRequiredService<IOptions<TopologyOptions>>().Value;
            var placement = provider.GetRequiredService<NodePlacement>();
            return options.PeerFanOut && placement.PeersIn(topology).Count > 0
                ? PeerFanOut.Create(
                    options,
                    topology,
                    placement,
                    provider.GetRequiredService<TimeProvider>(),
                    provider.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Coherence"),
                    provider.GetRequiredService<CollectorRegistry>(),
                    provider.GetRequiredService<InternalTls>())
                : CommittedChangeSink.None;
        });
        services.AddSingleton<CacheNodeHost>();
        services.AddHostedService(static provider => provider.GetRequiredService<CacheNodeHost>());
        services.AddSingleton(static provider => new ReadinessCheck("cache", _ => ValueTask.FromResult(provider.GetRequiredService<CacheNodeHost>().Current is not null)));
        services.AddSingleton<ExchangeHost>();
        services.AddSingleton<CacheNodeService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<CacheNodeService>, SnapshotMethodProvider>());
        if (withRedis)
        {
            services.AddRedis();

            // Tailing a stream, the node can be behind it: stale past Cache:MaxStaleness (proxies then prefer its peers).
            services.AddSingleton(static provider => new NodeFreshness(
                provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<IOptions<CacheNodeOptions>>().Value.MaxStaleness));
            services.AddSingleton<AppliedCursor>();
            services.AddSingleton<SnapshotTierFactory>();
            services.AddSingleton<CoherenceTailer>();
            services.AddHostedService(static provider => provider.GetRequiredService<CoherenceTailer>());
            services.AddSingleton(static provider => new ReadinessCheck("coherence", _ => ValueTask.FromResult(provider.GetRequiredService<CoherenceTailer>().IsReady)));

            // Snapshots carry the tailer's applied cursor.
            services.AddSingleton(static provider => provider.GetRequiredService<CoherenceTailer>().Cursors);
        }
        else
        {
            // A node without Redis tails nothing, sends an empty cursor and is never stale.
            services.AddSingleton(SnapshotCursorSource.None);
            services.AddSingleton(NodeFreshness.AlwaysFresh);
        }

        return services;
    }

    /// <summary>
    /// The proxy role: the public ReadHistory service over the backend that fits the process. With a cache node in the
    /// process (role all) it calls that node in-process; with a topology it routes to remote cache nodes (router,
    /// health checks, limits, metrics, topology reload); with neither it answers from the database.
    /// </summary>
    public static IServiceCollection AddProxyRole(this IServiceCollection services, bool withLocalCache, bool withTopology, IConfiguration configuration)
    {
        if (withLocalCache)
        {
            services.AddSingleton<IReadHistoryBackend>(static provider => new CacheBackend(provider.GetRequiredService<CacheNodeHost>()));
        }
        else if (withTopology)
        {
            services.AddRemoteCacheBackend(configuration);
        }
        else
        {
            services.AddDatabase();
            services.AddSingleton<IReadHistoryBackend>(static provider => new DatabaseBackend(provider.GetRequiredService<DatabaseConnector>()));
        }

        services.AddSingleton<ReadHistoryService>();
        if (!withLocalCache && withTopology && ForwardingMethods.Enabled(configuration))
        {
            services.AddSingleton<ForwardingReadHistoryService>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<ForwardingReadHistoryService>, ForwardingMethodProvider>());
        }

        return services;
    }

    /// <summary>The CDC role (with Redis): one publisher, leader by lease or standby, for the process's lifetime.</summary>
    public static IServiceCollection AddCdcRole(this IServiceCollection services)
    {
        services.AddRedis();
        services.AddSingleton<CdcHost>();
        services.AddHostedService(static provider => provider.GetRequiredService<CdcHost>());
        return services;
    }

    private static void AddRemoteCacheBackend(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(provider =>
        {
            var router = new ProxyRouter(
                provider.GetRequiredService<IOptions<TopologyOptions>>().Value,
                provider.GetRequiredService<IOptions<ProxyOptions>>().Value,
                provider.GetRequiredService<TimeProvider>(),
                ProxyLogger(provider),
                provider.GetRequiredService<InternalTls>());
            router.WatchConfiguration(configuration);
            return router;
        });
        services.AddSingleton(static provider => new ProxyMetrics(provider.GetRequiredService<CollectorRegistry>(), provider.GetRequiredService<ProxyRouter>()));
        services.AddSingleton(provider =>
        {
            var limiter = new TenantLimiter(provider.GetRequiredService<IOptions<ProxyOptions>>().Value, provider.GetRequiredService<ProxyMetrics>());
            limiter.WatchConfiguration(configuration, ProxyLogger(provider));
            return limiter;
        });
        services.AddSingleton(static provider => new ReplicaHealthChecker(
            provider.GetRequiredService<ProxyRouter>(),
            provider.GetRequiredService<IOptions<ProxyOptions>>().Value,
            provider.GetRequiredService<TimeProvider>(),
            ProxyLogger(provider)));
        services.AddSingleton(static provider => new ProxyBackend(
            provider.GetRequiredService<ProxyRouter>(),
            provider.GetRequiredService<TenantLimiter>(),
            provider.GetRequiredService<ProxyMetrics>(),
            provider.GetRequiredService<AdmissionControl>(),
            provider.GetRequiredService<IOptions<ProxyOptions>>().Value,
            provider.GetRequiredService<TimeProvider>(),
            ProxyLogger(provider)));
        services.AddSingleton<IReadHistoryBackend>(static provider => provider.GetRequiredService<ProxyBackend>());

        // Created with the host, not at the first call: the probes start once the host has started, and the
        // container closes the router, limiter, metrics and checker when the host is disposed.
        services.AddHostedService<ReplicaProbing>();
    }

    private static void AddDatabase(this IServiceCollection services)
    {
        if (services.Any(static d => d.ServiceType == typeof(DatabaseConnector)))
        {
            return;
        }

        services.AddSingleton<DatabaseConnector>();
        services.AddHostedService(static provider => provider.GetRequiredService<DatabaseConnector>());
        services.AddSingleton(static provider => new ReadinessCheck("database", _ => ValueTask.FromResult(provider.GetRequiredService<DatabaseConnector>().Current is not null)));
    }

    private static void AddRedis(this IServiceCollection services)
    {
        services.AddNodePlacement();
        services.TryAddSingleton<RedisConnector>();
    }

    private static void AddNodePlacement(this IServiceCollection services) =>
        services.TryAddSingleton(static provider =>
        {
            var cache = provider.GetRequiredService<IOptions<CacheNodeOptions>>().Value;
            return new NodePlacement(provider.GetRequiredService<IOptions<ServerOptions>>().Value.NodeName, cache.Pool, cache.Slot, cache.Replica, cache.ReplicasPerSlot);
        });

    private static ILogger ProxyLogger(IServiceProvider provider) =>
        provider.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Proxy");
}
