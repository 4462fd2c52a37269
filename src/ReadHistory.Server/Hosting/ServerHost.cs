using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.AspNetCore.Server;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Api.Internal;
using ReadHistory.Server.Auth;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Storage;
using ReadHistory.Server.Tls;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Hosting;

/// <summary>Builds and runs the web host: the public gRPC API on one endpoint, the internal one on another (cache role), metrics and health on a third, the configured roles wired in.</summary>
internal static class ServerHost
{
    /// <summary>
    /// Response bytes Kestrel buffers before a write waits (its default is 64 KiB). Raised so that a server stream
    /// writing messages of up to 4 MiB (a warm-start Snapshot) builds the next message while the last one drains
    /// instead of stalling on every message. Server-wide: it applies to every endpoint of the server.
    /// </summary>
    public const long ResponseBufferBytes = 8L << 20;

    /// <summary>The environment variable naming a folder of configuration files, one per key (see <see cref="Build"/>).</summary>
    public const string ConfigDirectoryVariable = "READHISTORY_CONFIG_DIR";

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

    /// <summary>
    /// Builds the application; <paramref name="configure"/> lets tests add configuration (ports 0, test servers).
    /// Throws <see cref="OptionsValidationException"/> naming every bad key before anything starts.
    /// </summary>
    public static WebApplication Build(string[] args, Action<ConfigurationManager>? configure)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder.Configuration);

        // A folder of one file per key (a Kubernetes Secret mounted as a volume: file name = key, "__" between
        // sections), read last and re-read when it changes, so API keys are issued and revoked without a restart.
        if (Environment.GetEnvironmentVariable(ConfigDirectoryVariable) is { Length: > 0 } folder)
        {
            builder.Configuration.AddKeyPerFile(folder, optional: false, reloadOnChange: true);
        }

        // What to wire is read from three keys; the options themselves are bound and validated once, below.
        var configuration = builder.Configuration;
        var roles = TryParseRoles(configuration[ServerOptions.Section + ":Roles"]);
        var withRedis = !string.IsNullOrWhiteSpace(configuration[RedisOptions.Section + ":Configuration"]);
        var withTopology = configuration.GetSection(TopologyOptions.Section + ":Pools").GetChildren().Any();

        var problems = ServerOptionsRegistration.Problems(configuration);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), problems);
        }

        var services = builder.Services;
        services.AddServerOptions();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Readiness>();
        // The internal port's mutual TLS (InternalTls), loaded once: the internal listener and every internal client use it.
        services.AddSingleton(static provider => InternalTls.Load(provider.GetRequiredService<IOptions<InternalTlsOptions>>().Value));
        services.AddOptions<HostOptions>().Configure<IOptions<ServerOptions>>(static (host, server) => host.ShutdownTimeout = server.Value.ShutdownGrace);
        // Interceptors run in the order added: metrics outermost, then the stream limits (on the stream as it arrives,
        // so a wait for admission is never idle time), then admission.
        var grpc = services.AddGrpc();
        grpc.AddServiceOptions<ReadHistoryService>(static service => service.Interceptors.Add<RpcMetricsInterceptor>())
            .AddServiceOptions<ForwardingReadHistoryService>(static service => service.Interceptors.Add<RpcMetricsInterceptor>())
            .AddServiceOptions<CacheNodeService>(static service => service.Interceptors.Add<RpcMetricsInterceptor>())
            .AddServiceOptions<ReadHistoryService>(static service => service.Interceptors.Add<IngestLimitInterceptor>())
            .AddServiceOptions<ForwardingReadHistoryService>(static service => service.Interceptors.Add<IngestLimitInterceptor>())
            .AddServiceOptions<CacheNodeService>(static service => service.Interceptors.Add<IngestLimitInterceptor>());
        // With API keys: identity, scope and tenant rules on the public API (TenantAccessInterceptor), before admission.
        var authMode = TryParseAuthMode(configuration[AuthOptions.Section + ":Mode"]);
        if (authMode == AuthMode.ApiKeys)
        {
            services.AddApiKeyAuthentication(configuration);
            grpc.AddServiceOptions<ReadHistoryService>(static service => service.Interceptors.Add<TenantAccessInterceptor>())
                .AddServiceOptions<ForwardingReadHistoryService>(static service => service.Interceptors.Add<TenantAccessInterceptor>());
        }

        grpc.AddServiceOptions<ReadHistoryService>(static service => service.Interceptors.Add<AdmissionInterceptor>())
            .AddServiceOptions<ForwardingReadHistoryService>(static service => service.Interceptors.Add<AdmissionInterceptor>())
            .AddServiceOptions<CacheNodeService>(static service => service.Interceptors.Add<AdmissionInterceptor>());
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ServerOptions>>(static (grpc, server) => grpc.MaxReceiveMessageSize = server.Value.MaxReceiveMessageBytes);
        services.AddGrpcReflection();
        // Reflection is served on the public listener and describes what is served there: by default Grpc.AspNetCore's
        // lists every mapped service, the internal CacheNode included. Registered after it, this one is the one resolved.
        services.AddSingleton(static _ => new Grpc.Reflection.ReflectionServiceImpl(
            ReadHistory.Api.V1.ReadHistory.Descriptor,
            Grpc.Health.V1.Health.Descriptor,
            Grpc.Reflection.V1Alpha.ServerReflection.Descriptor));
        // Registered, the interceptor is resolved once; unregistered, Grpc.AspNetCore would construct one per call.
        services.AddSingleton<RpcMetricsInterceptor>();
        services.AddSingleton<AdmissionInterceptor>();
        services.AddSingleton<IngestLimitInterceptor>();

        // Each host has its own registry (tests run several hosts in one process; a registry is what /metrics serves).
        // prometheus-net's default metrics live in the default registry, which nothing here serves; suppressing them
        // still keeps its meter adapter off should anything collect it (it would export this process's meters again,
        // counters as gauges, under prefixed names).
        Metrics.SuppressDefaultMetrics();
        var metricsRegistry = Metrics.NewCustomRegistry();
        services.AddSingleton(metricsRegistry);
        services.AddSingleton(static provider => new RpcMetrics(provider.GetRequiredService<CollectorRegistry>(), provider.GetRequiredService<IOptions<ServerOptions>>().Value.Roles.Replace(',', '+')));
        services.AddSingleton(static provider => new RequestValidator(provider.GetRequiredService<IOptions<RequestLimits>>().Value, provider.GetRequiredService<TimeProvider>()));
        services.AddRouting();

        // Admission control: a process that forwards to remote nodes (a proxy with a topology and no cache of its own)
        // takes the Proxy bounds; one that answers itself (cache, all, or a database-backed API) the Node bounds.
        var forwards = roles.HasFlag(ServerRoles.Proxy) && !roles.HasFlag(ServerRoles.Cache) && withTopology;
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<AdmissionOptions>>().Value;
            var admission = forwards
                ? new AdmissionControl(options.Proxy, nameof(AdmissionOptions.Proxy), options.RetryAfter)
                : new AdmissionControl(options.Node, nameof(AdmissionOptions.Node), options.RetryAfter);
            AdmissionMetrics.Publish(provider.GetRequiredService<CollectorRegistry>(), admission);
            return admission;
        });

        // Grpc.HealthCheck's service starts with no status; HealthReporter sets "" and the API's from readiness.
        services.AddSingleton<HealthServiceImpl>();
        services.AddSingleton<HealthReporter>();
        services.AddHostedService(static provider => provider.GetRequiredService<HealthReporter>());

        if (roles.HasFlag(ServerRoles.Cache))
        {
            services.AddCacheRole(withRedis);
        }

        if (roles.HasFlag(ServerRoles.Proxy))
        {
            services.AddProxyRole(withLocalCache: roles.HasFlag(ServerRoles.Cache), withTopology, configuration);
        }

        if (roles.HasFlag(ServerRoles.Cdc) && withRedis)
        {
            services.AddCdcRole();
        }

        // Nodes and the CDC hold database pools; their connection gauges go in this host's registry.
        if (roles.HasFlag(ServerRoles.Cache) || roles.HasFlag(ServerRoles.Cdc) || (roles.HasFlag(ServerRoles.Proxy) && !withTopology))
        {
            MySqlPoolMetrics.Shared.Publish(metricsRegistry);
        }

        // Two gRPC listeners: the public API on GrpcListen, the internal CacheNode API on InternalGrpcListen (a process
        // with the cache role only). Which services a connection may call is decided by the listener it arrived on.
        var servesInternal = roles.HasFlag(ServerRoles.Cache);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ListenerMatcherPolicy>());

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<ServerOptions>, IOptions<ConnectionLimits>, InternalTls, IOptions<AuthOptions>>((kestrel, server, limits, internalTls, auth) =>
        {
            limits.Value.ApplyTo(kestrel.Limits);
            var options = server.Value;
            var certificate = options.LoadCertificate();
            Action<HttpsConnectionAdapterOptions>? publicTls = certificate is null ? null : https => https.ServerCertificate = certificate;
            // With client certificates as a scheme the public port asks for one; a caller without one still connects
            // (and presents a key). The chain is judged by the certificate scheme against Auth:ClientCaPath, per call.
            Action<HttpsConnectionAdapterOptions>? publicWithCertificates = certificate is null || authMode != AuthMode.ApiKeys || auth.Value.ClientCaPath.Length == 0 ? publicTls : https =>
            {
                https.ServerCertificate = certificate;
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            };
            ListenGrpc(kestrel, ServerOptions.ParseEndPoint(options.GrpcListen), publicWithCertificates, GrpcListener.Public);
            kestrel.Listen(ServerOptions.ParseEndPoint(options.HttpListen));
            if (servesInternal)
            {
                // Mutual TLS when InternalTls is set; otherwise the public listener's certificate (no client certificates).
                ListenGrpc(kestrel, ServerOptions.ParseEndPoint(options.InternalGrpcListen), internalTls.Enabled ? internalTls.ConfigureServer : publicTls, GrpcListener.Internal);
            }
        });

        var app = builder.Build();

        // After routing (WebApplication adds it first), before the endpoints: exact method paths, per-call body deadline.
        app.UseMiddleware<GrpcCallGuard>();
        if (authMode == AuthMode.ApiKeys)
        {
            // ASP.NET Core's authentication of the default scheme, remembered per public connection; scopes and tenants are
            // the public services' interceptor's (TenantAccessInterceptor). WebApplication adds UseAuthentication itself,
            // ahead of everything, whenever a scheme is registered, unless the pipeline carries the key UseAuthentication
            // sets: set it, so the framework's middleware does not run on every call before this one.
            ((IApplicationBuilder)app).Properties[AuthenticationMiddlewareSetKey] = true;
            app.UseMiddleware<ConnectionAuthenticationMiddleware>();
        }

        if (roles.HasFlag(ServerRoles.Cache))
        {
            app.MapGrpcService<CacheNodeService>().ServedOn(GrpcListener.Internal);
        }

        if (roles.HasFlag(ServerRoles.Proxy))
        {
            // A proxy in front of remote nodes forwards Check, Filter, MarkRead and BatchCheck as bytes (ReadHistory:Proxy:ForwardBytes).
            if (app.Services.GetService<ForwardingReadHistoryService>() is not null)
            {
                app.MapGrpcService<ForwardingReadHistoryService>().ServedOn(GrpcListener.Public);
            }
            else
            {
                app.MapGrpcService<ReadHistoryService>().ServedOn(GrpcListener.Public);
            }
        }

        // Health on both listeners: clients probe the public one, proxies probe a node's internal one (the address the
        // topology names). Reflection describes the public API only.
        app.MapGrpcService<HealthServiceImpl>().ServedOn(GrpcListener.Public, GrpcListener.Internal);
        app.MapGrpcReflectionService().ServedOn(GrpcListener.Public);
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

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Server");
        var readiness = app.Services.GetRequiredService<Readiness>();
        var server = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;
        var roleNames = roles.ToString();
        var transport = server.TlsCertificatePath.Length > 0 ? " (TLS)" : " (h2c)";
        var internalListen = !roles.HasFlag(ServerRoles.Cache) ? "(none: no cache role)"
            : app.Services.GetRequiredService<InternalTls>().Enabled ? server.InternalGrpcListen + " (mutual TLS)"
            : server.InternalGrpcListen;
        app.Lifetime.ApplicationStarted.Register(() => Log.Starting(logger, roleNames, server.GrpcListen, internalListen, transport, server.HttpListen));
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (roles.HasFlag(ServerRoles.Proxy) && auth.Mode == AuthMode.Off && auth.AllowAnonymous && !server.PublicIsLoopback())
        {
            app.Lifetime.ApplicationStarted.Register(() => Log.Anonymous(logger, server.GrpcListen));
        }
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            readiness.StartDraining();
            Log.Draining(logger, server.ShutdownGrace.TotalSeconds);
        });
        app.Lifetime.ApplicationStopped.Register(() => Log.Stopped(logger));
        return app;
    }

    // A bad mode wires no authentication; the validation names it (AuthOptions binds it).
    private static AuthMode TryParseAuthMode(string? text) =>
        Enum.TryParse<AuthMode>(text, ignoreCase: true, out var mode) ? mode : AuthMode.Off;

    // A bad role list wires no role; the validation names it (ServerOptionsValidator).
    private static ServerRoles TryParseRoles(string? text)
    {
        try
        {
            return ServerRolesParser.Parse(text ?? string.Empty);
        }
        catch (FormatException)
        {
            return ServerRoles.None;
        }
    }

    // The IApplicationBuilder property UseAuthentication sets (not a public ASP.NET Core constant).
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>
    /// Listens for gRPC on an address: HTTP/2 only, cleartext (h2c, prior knowledge) when <paramref name="tls"/>
    /// is null, TLS with ALPN h2 set up by it otherwise (certificate, client certificates). Port 0 picks a free port. Raises the server's response buffer to
    /// <see cref="ResponseBufferBytes"/> (see there). Each connection carries a <see cref="ListenerFeature"/> naming
    /// <paramref name="listener"/>, which decides the services it may call (<see cref="ListenerMatcherPolicy"/>).
    /// </summary>
    internal static void ListenGrpc(KestrelServerOptions kestrel, IPEndPoint endPoint, Action<HttpsConnectionAdapterOptions>? tls, GrpcListener listener)
    {
        var feature = ListenerFeature.For(listener);
        if (kestrel.Limits.MaxResponseBufferSize is { } buffer && buffer < ResponseBufferBytes)
        {
            kestrel.Limits.MaxResponseBufferSize = ResponseBufferBytes;
        }

        kestrel.Listen(endPoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.Use(next => connection =>
            {
                connection.Features.Set(feature);
                if (listener == GrpcListener.Public)
                {
                    // Set before the first stream, so the calls of the connection only read the feature.
                    connection.Features.Set(new ConnectionAuthentication());
                }

                return next(connection);
            });
            if (tls is not null)
            {
                listen.UseHttps(tls);
            }
        });
    }
}
