using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Api.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Health;
using ReadHistory.Rpc.Server;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Internal;
using ReadHistory.Server.Proxy;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Hosting;

/// <summary>Builds and runs the web host: gRPC on one endpoint, metrics and health on another, the configured roles wired in.</summary>
internal static class ServerHost
{
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
        builder.Services.AddGrpcServer(grpc => grpc.MaxReceiveMessageSize = options.MaxReceiveMessageBytes);
        // Each host has its own registry (tests run several hosts in one process; a registry is what /metrics serves).
        // prometheus-net's default metrics live in the default registry, which nothing here serves; suppressing them
        // still keeps its meter adapter off should anything collect it (it would export this process's meters again,
        // counters as gauges, under prefixed names).
        Metrics.SuppressDefaultMetrics();
        var metricsRegistry = Metrics.NewCustomRegistry();
        builder.Services.AddSingleton(metricsRegistry);
        builder.Services.AddRouting();
        builder.Services.AddSingleton<HealthService>();
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
            kestrel.ListenGrpc(ReadHistoryOptions.ParseEndPoint(options.GrpcListen), certificate);
            kestrel.Listen(ReadHistoryOptions.ParseEndPoint(options.HttpListen));
        });

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Server");
        var readiness = app.Services.GetRequiredService<Readiness>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        var rpcMetrics = new RpcMetrics(metricsRegistry, options.Roles.Replace(',', '+'), time);

        var validator = new RequestValidator(options.Limits, time);
        var connector = app.Services.GetService<DatabaseConnector>();
        connector?.RegisterReadiness(readiness);
        var node = app.Services.GetService<CacheNodeHost>();
        var tailer = app.Services.GetService<CoherenceTailer>();
        tailer?.RegisterReadiness(readiness);
        if (node is not null)
        {
            node.RegisterReadiness(readiness);
            // Snapshots carry the tailer's applied cursor; a node without Redis tails nothing and sends an empty one.
            app.MapGrpcService(new CacheNodeService(validator, node, tailer?.Cursors).Bind(rpcMetrics));
        }

        if (roles.HasFlag(ServerRoles.Proxy))
        {
            // With a cache node in this process (role all) the proxy calls it in-process; a proxy with a topology
            // routes to remote cache nodes; a proxy with neither answers from the database.
            IReadHistoryBackend backend = node is not null ? new CacheBackend(node)
                : options.Topology.Pools.Count > 0 ? app.CreateProxyBackend(options)
                : new DatabaseBackend(connector!);
            app.MapGrpcService(BindReadHistory(new ReadHistoryService(validator, backend), rpcMetrics));
        }

        app.MapGrpcService(app.Services.GetRequiredService<HealthService>().CreateDefinition());
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

    private static ServerServiceDefinition BindReadHistory(ReadHistoryService service, RpcMetrics metrics) =>
        ServerServiceDefinition.CreateBuilder(ReadHistoryMethods.ServiceName)
            .AddUnaryMethod(ReadHistoryMethods.Check, metrics.Instrument<CheckRequest, CheckResponse>("Check", service.CheckAsync))
            .AddUnaryMethod(ReadHistoryMethods.Filter, metrics.Instrument<CheckRequest, FilterResponse>("Filter", service.FilterAsync))
            .AddUnaryMethod(ReadHistoryMethods.BatchCheck, metrics.Instrument<BatchCheckRequest, BatchCheckResponse>("BatchCheck", service.BatchCheckAsync))
            .AddUnaryMethod(ReadHistoryMethods.MarkRead, metrics.Instrument<MarkReadRequest, MarkReadResponse>("MarkRead", service.MarkReadAsync))
            .AddClientStreamingMethod(ReadHistoryMethods.Ingest, metrics.Instrument<IngestRequest, IngestResponse>("Ingest", service.IngestAsync))
            .AddUnaryMethod(ReadHistoryMethods.ForgetUser, metrics.Instrument<ForgetUserRequest, ForgetUserResponse>("ForgetUser", service.ForgetUserAsync))
            .Build();
}
