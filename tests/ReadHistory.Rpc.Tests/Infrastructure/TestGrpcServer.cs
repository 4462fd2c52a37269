using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Server;

namespace ReadHistory.Rpc.Tests.Infrastructure;

/// <summary>Our server on Kestrel, bound to 127.0.0.1 port 0 (h2c), serving the given services.</summary>
public sealed class TestGrpcServer : IAsyncDisposable
{
    /// <summary>The receive limit the tests use, small so that oversize cases stay cheap.</summary>
    public const int TestMaxMessageSize = 64 * 1024;

    private readonly WebApplication _app;

    private TestGrpcServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestGrpcServer> StartAsync(Action<GrpcServerOptions>? configure = null, params ServerServiceDefinition[] services)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenGrpc(new IPEndPoint(IPAddress.Loopback, 0)));
        builder.Services.AddGrpcServer(options =>
        {
            options.MaxReceiveMessageSize = TestMaxMessageSize;
            configure?.Invoke(options);
        });
        var app = builder.Build();
        foreach (var service in services.Length == 0 ? [EchoService.CreateDefinition()] : services)
        {
            app.MapGrpcService(service);
        }

        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestGrpcServer(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <summary>A channel of our client to this server.</summary>
    public GrpcChannel CreateChannel(GrpcChannelOptions? options = null) => GrpcChannel.ForAddress(Address, options);

    /// <summary>A raw HTTP/2 client for hand-made requests.</summary>
    public HttpClient CreateRawClient() => new(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = Address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }
}
