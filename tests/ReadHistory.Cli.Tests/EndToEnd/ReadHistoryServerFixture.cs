using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ReadHistory.Cli.Tests.EndToEnd;

/// <summary>Kestrel on 127.0.0.1, port 0, serving the in-memory ReadHistory double and health over Grpc.AspNetCore (HTTP/2 only).</summary>
public sealed class ReadHistoryServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    /// <summary>The server's address, e.g. http://127.0.0.1:41234.</summary>
    public string Endpoint { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(new IPEndPoint(IPAddress.Loopback, 0), listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<InMemoryReadHistoryService>();
        _app = builder.Build();
        _app.MapGrpcService<InMemoryReadHistoryService>();
        _app.MapGrpcService<InMemoryHealthService>();
        await _app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Endpoint = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _app.DisposeAsync();
        }
    }
}
