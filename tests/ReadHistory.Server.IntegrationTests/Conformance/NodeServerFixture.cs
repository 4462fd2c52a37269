using Xunit;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>The grpc-js echo server (Conformance/js/server.js), started once for a test class.</summary>
public sealed class NodeServerFixture : IAsyncLifetime
{
    private NodeServer? _server;

    public NodeServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        await NodePeer.EnsureInstalledAsync();
        _server = await NodePeer.StartServerAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
