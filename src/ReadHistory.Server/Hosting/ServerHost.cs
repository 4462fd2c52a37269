using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.AspNetCore.Server.Model;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Internal;
using ReadHistory.Server.Proxy;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Hosting;

/// <summary>Builds and runs the web host: gRPC on one endpoint, metrics and health on another, the configured roles wired in.</summary>
internal static class ServerHost
{
    /// <summary>
    /// Response bytes Kestrel buffers before a write waits (its default is 64 KiB). Raised so that a server stream
    /// writing messages of up to 4 MiB (a warm-start Snapshot) builds the next message while the last one drains
    /// instead of stalling on every message. Server-wide: it applies to every endpoint of the server.
    /// </summary>
    public const long ResponseBufferBytes = 8L << 20;

    /// <summary>Serves until SIGTERM / Ctrl-C; returns the process exit code (2 = bad configuration).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplication app;
        try
        {
            app = Build(args, configure: null);
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures)
            {
                await Console.Error.WriteLineAsync("configuration error: " + failure).ConfigureAwait(false);
            }

            return 2;
        }

        await using (app.ConfigureAwait(false))
        {
            await app.RunAsync().ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Builds the application; <paramref name="configure"/> lets tests add configuration (ports 0, test servers).</summary>
    public static WebApplication Build(string[] args, Action<ConfigurationManager>? configure)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder.Configuration);

        var options = builder.Configuration.GetSection(ReadHistoryOptions.Section).Get<ReadHistoryOptions>() ?? new ReadHistoryOptions();
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(ReadHistoryOptions.Section, typeof(ReadHistoryOptions), problems);
        }

        var roles = ServerRolesParser.Parse(options.Roles);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Readiness>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownGrace);
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = options.MaxReceiveMessageBytes)
            .AddServiceOptions<ReadHistoryService>(service => service.Interceptors.Add<RpcMetricsInterceptor>())
            .AddServiceOptions<CacheNodeService>(service => service.Interceptors.Add<RpcMetricsInterceptor>());
        builder.Services.AddGrpcReflection();
        // Registered, the interceptor is resolved once; unregistered, Grpc.AspNetCore would construct one per call.
        builder.Services.AddSingleton<RpcMetricsInterceptor>();
        // Each host has its own registry (tests run several hosts in one process; a registry is what /metrics serves).
        // prometheus-net's default metrics live in the default registry, which nothing here serves; suppressing them
        // still keeps its meter adapter off should anything collect it (it would export this process's meters again,
        // counters as gauges, under prefixed names).
        Metrics.SuppressDefaultMetrics();
        var metricsRegistry = Metrics.NewCustomRegistry();
        builder.Services.AddSingleton(metricsRegistry);
        builder.Services.AddSingleton(static provider => new RpcMetrics(provider.GetRequiredService<CollectorRegistry>(), provider.GetRequiredService<ReadHistoryOptions>().Roles.Replace(',', '+')));
        builder.Services.AddSingleton(static provider => new RequestValidator(provider.GetRequiredService<ReadHistoryOptions>().Limits, provider.GetRequiredService<TimeProvider>()));
        builder.Services.AddRouting();
        // Grpc.HealthCheck's service starts with no status; HealthReporter sets "" and the API's from readiness.
        builder.Services.AddSingleton<HealthServiceImpl>();
        builder.Services.AddSingleton<HealthReporter>();
        builder.Services.AddHostedService(static provider => provider.GetRequiredService<HealthReporter>());
        // The database is needed by cache nodes, and by a proxy only when it has no cache nodes to route to.
        if (roles.HasFlag(ServerRoles.Cache) || (roles.HasFlag(ServerRoles.Proxy) && options.Topology.Pools.Count == 0))
        {
            builder.Services.AddSingleton<DatabaseConnector>();
            builder.Services.AddHostedService(static provider => provider.GetRequiredService<DatabaseConnector>());
        }

        if (roles.HasFlag(ServerRoles.Cache))
        {
            builder.Services.AddSingleton<CacheNodeHost>();
            builder.Services.AddHostedService(static provider => provider.GetRequiredService<CacheNodeHost>());
            // Snapshots carry the tailer's applied cursor; a node without Redis tails nothing and sends an empty one.
            builder.Services.AddSingleton(static provider => new CacheNodeService(
                provider.GetRequiredService<RequestValidator>(), provider.GetRequiredService<CacheNodeHost>(), provider.GetService<CoherenceTailer>()?.Cursors));
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<CacheNodeService>, SnapshotMethodProvider>());
        }

        if (roles.HasFlag(ServerRoles.Proxy))
        {
            // With a cache node in this process (role all) the proxy calls it in-process; a proxy with a topology
            // routes to remote cache nodes; a proxy with neither answers from the database.
            if (roles.HasFlag(ServerRoles.Cache))
            {
                builder.Services.AddSingleton<IReadHistoryBackend>(static provider => new CacheBackend(provider.GetRequiredService<CacheNodeHost>()));
            }
            else if (options.Topology.Pools.Count > 0)
            {
                builder.Services.AddProxyBackend(builder.Configuration, options);
            }
            else
            {
                builder.Services.AddSingleton<IReadHistoryBackend>(static provider => new DatabaseBackend(provider.GetRequiredService<DatabaseConnector>()));
            }

            builder.Services.AddSingleton<ReadHistoryService>();
        }

        if (options.Redis.IsConfigured)
        {
            builder.Services.AddSingleton<RedisConnector>();
            if (roles.HasFlag(ServerRoles.Cache))
            {
                builder.Services.AddSingleton<CoherenceTailer>();
                builder.Services.AddHostedService(static provider => provider.GetRequiredService<CoherenceTailer>());
            }

            if (roles.HasFlag(ServerRoles.Cdc))
            {
                builder.Services.AddSingleton<CdcHost>();
                builder.Services.AddHostedService(static provider => provider.GetRequiredService<CdcHost>());
            }
        }

        // Nodes and the CDC hold database pools; their connection gauges go in this host's registry.
        if (roles.HasFlag(ServerRoles.Cache) || roles.HasFlag(ServerRoles.Cdc) || (roles.HasFlag(ServerRoles.Proxy) && options.Topology.Pools.Count == 0))
        {
            MySqlPoolMetrics.Shared.Publish(metricsRegistry);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            X509Certificate2? certificate = options.TlsCertificatePath.Length > 0
                ? X509CertificateLoader.LoadPkcs12FromFile(options.TlsCertificatePath, options.TlsCertificatePassword)
                : null;
            ListenGrpc(kestrel, ReadHistoryOptions.ParseEndPoint(options.GrpcListen), certificate);
            kestrel.Listen(ReadHistoryOptions.ParseEndPoint(options.HttpListen));
        });

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Server");
        var readiness = app.Services.GetRequiredService<Readiness>();
        var connector = app.Services.GetService<DatabaseConnector>();
        connector?.RegisterReadiness(readiness);
        var node = app.Services.GetService<CacheNodeHost>();
        node?.RegisterReadiness(readiness);
        var tailer = app.Services.GetService<CoherenceTailer>();
        tailer?.RegisterReadiness(readiness);
        if (node is not null)
        {
            app.MapGrpcService<CacheNodeService>();
        }

        if (roles.HasFlag(ServerRoles.Proxy))
        {
            // Resolved now, not at the first call: the proxy's probes start with the host.
            _ = app.Services.GetRequiredService<IReadHistoryBackend>();
            app.MapGrpcService<ReadHistoryService>();
        }

        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
        app.MapMetrics(settings =>
        {
            settings.Registry = metricsRegistry;
            // Text format 0.0.4 only, as before: OpenMetrics would rename counter families and adds nothing we use (no exemplars).
            settings.EnableOpenMetrics = false;
        }, "/metrics");
        app.MapGet("/healthz", static () => Results.Text("ok\n"));
        app.MapGet("/readyz", static async (Readiness readiness, HealthReporter health, CancellationToken cancellationToken) =>
        {
            var notReady = await readiness.NotReadyAsync(cancellationToken).ConfigureAwait(false);
            health.Publish(notReady);
            return notReady.Count == 0
                ? Results.Text("ready\n")
                : Results.Text("not ready: " + string.Join(", ", notReady) + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });

        var roleNames = roles.ToString();
        var transport = options.TlsCertificatePath.Length > 0 ? " (TLS)" : " (h2c)";
        app.Lifetime.ApplicationStarted.Register(() => Log.Starting(logger, roleNames, options.GrpcListen, transport, options.HttpListen));
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            readiness.StartDraining();
            Log.Draining(logger, options.ShutdownGrace.TotalSeconds);
        });
        app.Lifetime.ApplicationStopped.Register(() => Log.Stopped(logger));
        return app;
    }

    /// <summary>
    /// Listens for gRPC on an address: HTTP/2 only, cleartext (h2c, prior knowledge) when <paramref name="certificate"/>
    /// is null, TLS with ALPN h2 otherwise. Port 0 picks a free port. Raises the server's response buffer to
    /// <see cref="ResponseBufferBytes"/> (see there).
    /// </summary>
    internal static void ListenGrpc(KestrelServerOptions kestrel, IPEndPoint endPoint, X509Certificate2? certificate)
    {
        if (kestrel.Limits.MaxResponseBufferSize is { } buffer && buffer < ResponseBufferBytes)
        {
            kestrel.Limits.MaxResponseBufferSize = ResponseBufferBytes;
        }

        kestrel.Listen(endPoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        });
    }
}
