using Google.Protobuf.Reflection;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>Server reflection (what grpcurl uses) on a real host of roles all.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ReflectionTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private TestHost? _host;

    public async Task InitializeAsync() =>
        _host = await TestHost.StartReadyAsync(TestHost.Settings("all", mariaDb.Server.ConnectionString(), "refl" + Guid.NewGuid().ToString("N")[..8]));

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Reflection_lists_the_api_health_and_reflection_itself_and_not_the_internal_api()
    {
        var response = await AskAsync(new ServerReflectionRequest { ListServices = string.Empty });

        var services = response.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("readhistory.v1.ReadHistory", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", services);
        // The internal API is served on its own listener only, and not described on the public one.
        Assert.DoesNotContain("readhistory.internal.v1.CacheNode", services);
    }

    [Fact]
    public async Task Reflection_serves_the_file_descriptor_of_the_api()
    {
        var response = await AskAsync(new ServerReflectionRequest { FileContainingSymbol = "readhistory.v1.ReadHistory" });

        var files = response.FileDescriptorResponse.FileDescriptorProto.Select(bytes => FileDescriptorProto.Parser.ParseFrom(bytes)).ToList();
        var api = Assert.Single(files, f => f.Package == "readhistory.v1" && f.Service.Any(s => s.Name == "ReadHistory"));
        Assert.Equal("readhistory/v1/read_history.proto", api.Name);
        Assert.Equal(
            ["Check", "Filter", "BatchCheck", "MarkRead", "Ingest", "ForgetUser"],
            api.Service.Single(s => s.Name == "ReadHistory").Method.Select(m => m.Name));
    }

    private async Task<ServerReflectionResponse> AskAsync(ServerReflectionRequest request)
    {
        using var channel = GrpcChannel.ForAddress(_host!.Grpc);
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(TestHost.Deadline());
        await call.RequestStream.WriteAsync(request).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var response = call.ResponseStream.Current;
        Assert.NotEqual(ServerReflectionResponse.MessageResponseOneofCase.ErrorResponse, response.MessageResponseCase);
        return response;
    }
}
