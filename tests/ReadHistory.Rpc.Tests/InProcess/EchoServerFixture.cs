using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Tests.Infrastructure;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

/// <summary>One of our servers with the echo service and one channel to it, shared by a test class.</summary>
public sealed class EchoServerFixture : IAsyncLifetime
{
    private TestGrpcServer? _server;
    private GrpcChannel? _channel;

    public TestGrpcServer Server => _server ?? throw new InvalidOperationException("not started");

    public GrpcChannel Channel => _channel ?? throw new InvalidOperationException("not started");

    public CallInvoker Invoker => Channel.CreateCallInvoker();

    public async Task InitializeAsync()
    {
        _server = await TestGrpcServer.StartAsync();
        _channel = _server.CreateChannel();
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
