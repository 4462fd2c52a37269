using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api;
using ReadHistory.Server.Tls;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>A readhistory host on loopback ports chosen by the OS, against a private MariaDB, for in-process tests.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly Uri? _internal;

    private TestHost(WebApplication app)
    {
        App = app;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        // Kestrel lists endpoints in the order they were configured: public gRPC, HTTP, then (cache role) internal gRPC.
        Assert.InRange(addresses.Count, 2, 3);
        Grpc = addresses[0];
        Http = addresses[1];
        _internal = addresses.Count == 3 ? addresses[2] : null;
    }

    public WebApplication App { get; }

    /// <summary>The public gRPC listener: ReadHistory, health, reflection.</summary>
    public Uri Grpc { get; }

    /// <summary>The internal gRPC listener of a host with the cache role: CacheNode and health (what a topology names).</summary>
    public Uri Internal => _internal ?? throw new InvalidOperationException("this host has no cache role, so no internal listener");

    public Uri Http { get; }

    /// <summary>
    /// A channel to the internal listener made as the host's own internal clients make theirs: with
    /// ReadHistory:InternalTls set, it presents the host's certificate and trusts the internal CA only.
    /// </summary>
    public GrpcChannel InternalChannel()
    {
        var handler = ServiceChannels.CreateHandler();
        App.Services.GetRequiredService<InternalTls>().ConfigureClient(handler);
        return ServiceChannels.Create(Internal, handler);
    }

    /// <summary>The host's /metrics page as scraped now.</summary>
    public async Task<string> MetricsAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(Http, "/metrics")).DefaultTimeout();
    }

    /// <summary>
    /// Settings for a host of <paramref name="roles"/> on ports 0 with its own schema prefix. Cache:MaxStaleness is a
    /// minute: on a loaded machine a heartbeat can land more than the shipped second late, and a test that is not about
    /// staleness must not see its answers turn MEMORY_STALE for it (StalenessHostTests sets its own bound). For the
    /// same reason Database:GroupCommitMaxQueueDelay is 5 s, not the shipped 100 ms: a commit held up by a loaded disk
    /// must not turn a test's write into a refusal for load (GroupCommitWriterTests test the bound).
    /// </summary>
    public static Dictionary<string, string?> Settings(string roles, string connectionString, string prefix, string? redis = null) => new()
    {
        ["ReadHistory:Redis:Configuration"] = redis ?? string.Empty,
        ["ReadHistory:Redis:KeyPrefix"] = prefix,
        ["ReadHistory:NodeName"] = "test-node",
        ["ReadHistory:Roles"] = roles,
        ["ReadHistory:GrpcListen"] = "127.0.0.1:0",
        ["ReadHistory:InternalGrpcListen"] = "127.0.0.1:0",
        ["ReadHistory:HttpListen"] = "127.0.0.1:0",
        ["ReadHistory:ShutdownGrace"] = "00:00:02",
        ["ReadHistory:Database:ConnectionString"] = connectionString,
        ["ReadHistory:Database:DatabasePrefix"] = prefix,
        ["ReadHistory:Cache:BudgetBytes"] = (64 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ReadHistory:Cache:MaxStaleness"] = "00:01:00",
        ["ReadHistory:Database:GroupCommitMaxQueueDelay"] = "00:00:05",
    };

    /// <summary>Migrates the schema of the settings, starts the host, and waits until /readyz says ready.</summary>
    public static Task<TestHost> StartReadyAsync(Dictionary<string, string?> settings) => StartReadyAsync(settings, more: null);

    /// <summary>As <see cref="StartReadyAsync(Dictionary{string, string?})"/>, with more configuration sources added after the settings (a reloadable file).</summary>
    public static async Task<TestHost> StartReadyAsync(Dictionary<string, string?> settings, Action<ConfigurationManager>? more)
    {
        var database = ShippedDefaults.Database(o => new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(DatabaseOptions.Section).Bind(o));
        await SchemaMigrator.MigrateAsync(database, NullLogger.Instance, CancellationToken.None).DefaultTimeout();
        var app = ServerHost.Build([], configuration =>
        {
            configuration.AddInMemoryCollection(settings);
            more?.Invoke(configuration);
        });
        await app.StartAsync().DefaultTimeout();
        var host = new TestHost(app);
        await host.WaitReadyAsync().DefaultTimeout();
        return host;
    }

    /// <summary>Starts the host without waiting for readiness.</summary>
    public static async Task<TestHost> StartAsync(Dictionary<string, string?> settings)
    {
        var app = ServerHost.Build([], configuration => configuration.AddInMemoryCollection(settings));
        await app.StartAsync().DefaultTimeout();
        return new TestHost(app);
    }

    /// <summary>Call options with a generous deadline.</summary>
    public static CallOptions Deadline() => new(deadline: DateTime.UtcNow.AddSeconds(20));

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().DefaultTimeout();
        await App.DisposeAsync();
    }

    private async Task WaitReadyAsync()
    {
        using var client = new HttpClient();
        await Poll.UntilAsync(async () => (await client.GetAsync(new Uri(Http, "/readyz"))).IsSuccessStatusCode, "the host to become ready");
    }
}
