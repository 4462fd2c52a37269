using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace ReadHistory.Chaos;

/// <summary>
/// The client a careful user would run against two proxies: one channel whose static resolver lists both addresses,
/// balanced round robin (a proxy that dies leaves the pick until it is back), and a retry policy for UNAVAILABLE —
/// MarkRead is idempotent, Check is a read — of up to 4 attempts with exponential backoff (50 ms, doubling, at most
/// 400 ms), all within the call's deadline.
/// </summary>
internal static class ChaosClient
{
    /// <summary>Attempts per call (the first and three retries).</summary>
    public const int MaxAttempts = 4;

    /// <summary>A channel to the proxies at <paramref name="proxies"/> (host, port).</summary>
    public static GrpcChannel Create(IReadOnlyList<DnsEndPoint> proxies)
    {
        var addresses = proxies.Select(static p => new BalancerAddress(p.Host, p.Port)).ToArray();
        var resolver = new StaticResolverFactory(_ => addresses);
        var retry = new MethodConfig
        {
            Names = { MethodName.Default },
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = MaxAttempts,
                InitialBackoff = TimeSpan.FromMilliseconds(50),
                MaxBackoff = TimeSpan.FromMilliseconds(400),
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        return GrpcChannel.ForAddress("static:///readhistory-proxies", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = new ResolverServices(resolver),
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(1),
                UseProxy = false,
            },
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() }, MethodConfigs = { retry } },
            MaxRetryAttempts = MaxAttempts,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
    }

    /// <summary>
    /// The one service Grpc.Net.Client asks its service provider for here (its resolver factories); a container of its
    /// own would need Microsoft.Extensions.DependencyInjection, which nothing else in this tool uses.
    /// </summary>
    private sealed class ResolverServices(ResolverFactory resolver) : IServiceProvider
    {
        private readonly ResolverFactory[] _resolvers = [resolver];

        public object? GetService(Type serviceType) =>
            serviceType == typeof(IEnumerable<ResolverFactory>) ? _resolvers : null;
    }
}
