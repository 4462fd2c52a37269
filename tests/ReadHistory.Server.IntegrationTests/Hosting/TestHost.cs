using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Grpc.Core;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>A readhistory host on loopback ports chosen by the OS, against a private MariaDB, for in-process tests.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private TestHost(WebApplication app)
    {
        App = app;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        // Kestrel lists endpoints in the order they were configured: gRPC first, then HTTP.
        Assert.Equal(2, addresses.Count);
        Grpc = addresses[0];
        Http = addresses[1];
    }

    public WebApplication App { get; }

    public Uri Grpc { get; }

    public Uri Http { get; }

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
        ["ReadHistory:HttpListen"] = "127.0.0.1:0",
        ["ReadHistory:ShutdownGrace"] = "00:00:02",
        ["ReadHistory:Database:ConnectionString"] = connectionString,
        ["ReadHistory:Database:DatabasePrefix"] = prefix,
        ["ReadHistory:Cache:BudgetBytes"] = (64 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ReadHistory:Cache:MaxStaleness"] = "00:01:00",
        ["ReadHistory:Database:GroupCommitMaxQueueDelay"] = "00:00:05",
    };

    /// <summary>Migrates the schema of the settings, starts the host, and waits until /readyz says ready.</summary>
    public static async Task<TestHost> StartReadyAsync(Dictionary<string, string?> settings)
    {
        var database = ShippedDefaults.Database(o => new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(DatabaseOptions.Section).Bind(o));
        await SchemaMigrator.MigrateAsync(database, NullLogger.Instance, CancellationToken.None).DefaultTimeout();
        var host = await StartAsync(settings);
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
