using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Grpc.Core;
using ReadHistory.Server.Hosting;
using ReadHistory.Server.Storage;

namespace ReadHistory.Benchmarks.Shared;

/// <summary>
/// A readhistory host started in the bench process on loopback ports 0, for the end-to-end modes: the public gRPC
/// listener, the internal one (CacheNode; null without the cache role) and HTTP.
/// </summary>
internal sealed record BenchHost(WebApplication App, Uri Grpc, Uri? Internal, Uri Http) : IAsyncDisposable
{
    /// <summary>Settings for a host of <paramref name="roles"/> against a database, quiet logs, a given filter budget.</summary>
    public static Dictionary<string, string?> Settings(string roles, string connectionString, string prefix, long budgetBytes) => new()
    {
        ["ReadHistory:Roles"] = roles,
        ["ReadHistory:GrpcListen"] = "127.0.0.1:0",
        ["ReadHistory:InternalGrpcListen"] = "127.0.0.1:0",
        ["ReadHistory:HttpListen"] = "127.0.0.1:0",
        ["ReadHistory:ShutdownGrace"] = "00:00:01",
        ["ReadHistory:Database:ConnectionString"] = connectionString,
        ["ReadHistory:Database:DatabasePrefix"] = prefix,
        ["ReadHistory:Cache:BudgetBytes"] = budgetBytes.ToString(CultureInfo.InvariantCulture),
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>Settings for a proxy in front of <paramref name="node"/> alone (one pool for every tenant, one slot, one replica: the node's internal listener).</summary>
    public static Dictionary<string, string?> ProxySettings(BenchHost node, string connectionString, string prefix, long budgetBytes)
    {
        ArgumentNullException.ThrowIfNull(node);
        var settings = Settings("proxy", connectionString, prefix, budgetBytes);
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Tenants:0"] = string.Empty;
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = (node.Internal ?? throw new ArgumentException("the node has no internal listener (no cache role)", nameof(node))).ToString().TrimEnd('/');
        return settings;
    }

    /// <summary>Creates the schema the settings name.</summary>
    public static async Task MigrateAsync(Dictionary<string, string?> settings)
    {
        var database = ShippedDefaults.Database(o => new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(DatabaseOptions.Section).Bind(o));
        await SchemaMigrator.MigrateAsync(database, NullLogger.Instance, CancellationToken.None);
    }

    /// <summary>Starts a host and waits (bounded) until /readyz says ready.</summary>
    public static async Task<BenchHost> StartReadyAsync(Dictionary<string, string?> settings)
    {
        var app = ServerHost.Build([], configuration => configuration.AddInMemoryCollection(settings));
        await app.StartAsync();
        // Kestrel lists endpoints in the order they were configured: public gRPC, HTTP, then (cache role) internal gRPC.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        var host = new BenchHost(app, addresses[0], addresses.Count > 2 ? addresses[2] : null, addresses[1]);
        using var http = new HttpClient();
        for (var attempt = 0; attempt < 400; attempt++)
        {
            if ((await http.GetAsync(new Uri(host.Http, "/readyz"))).IsSuccessStatusCode)
            {
                return host;
            }

            await Task.Delay(50);
        }

        await host.DisposeAsync();
        throw new TimeoutException($"a {settings["ReadHistory:Roles"]} host did not become ready");
    }

    /// <summary>Call options with a deadline this many milliseconds away.</summary>
    public static CallOptions Within(int milliseconds) => new(deadline: DateTime.UtcNow.AddMilliseconds(milliseconds));

    /// <summary>An integer option "--name value" of a mode's arguments, or the fallback.</summary>
    public static int IntOption(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
