using ReadHistory.Rpc.Health;
using ReadHistory.Rpc.Tests.Infrastructure;
using Xunit;

namespace ReadHistory.Rpc.Tests.GrpcJs;

/// <summary>Both peers for the conformance tests: our server (echo and health) and the grpc-js echo server.</summary>
public sealed class ConformanceFixture : IAsyncLifetime
{
    private TestGrpcServer? _ourServer;
    private NodeServer? _nodeServer;

    public TestGrpcServer OurServer => _ourServer ?? throw new InvalidOperationException("not started");

    public string OurHostAndPort => OurServer.Address.Authority;

    public NodeServer NodeServer => _nodeServer ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        await NodePeer.EnsureInstalledAsync();
        _ourServer = await TestGrpcServer.StartAsync(null, EchoService.CreateDefinition(), new HealthService().CreateDefinition());
        _nodeServer = await NodePeer.StartServerAsync();
    }

    public async Task DisposeAsync()
    {
        if (_nodeServer is not null)
        {
            await _nodeServer.DisposeAsync();
        }

        if (_ourServer is not null)
        {
            await _ourServer.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ConformanceGroup : ICollectionFixture<ConformanceFixture>
{
    public const string Name = "grpc-js conformance";
}
