using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReadHistory.Rpc.Server;

namespace ReadHistory.Cli.Tests.EndToEnd;

/// <summary>Kestrel on 127.0.0.1, port 0, serving the in-memory ReadHistory double and health over ReadHistory.Rpc.</summary>
public sealed class ReadHistoryServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    /// <summary>The server's address, e.g. http://127.0.0.1:41234.</summary>
    public string Endpoint { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenGrpc(new IPEndPoint(IPAddress.Loopback, 0)));
        builder.Services.AddGrpcServer();
        _app = builder.Build();
        _app.MapGrpcService(new InMemoryReadHistoryService().Definition());
        _app.MapGrpcService(InMemoryReadHistoryService.HealthDefinition());
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
