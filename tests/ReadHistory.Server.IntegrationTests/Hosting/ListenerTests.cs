using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using ReadHistory.Server.Hosting;
using ReadHistory.Server.IntegrationTests.Conformance;
using ReadHistory.TestSupport;
using Xunit;
using CacheNode = ReadHistory.Api.Internal.V1.CacheNode;
using PublicApi = ReadHistory.Api.V1.ReadHistory;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>
/// The two gRPC listeners of a real host (roles all): the public API, health and reflection on GrpcListen; the internal
/// CacheNode API and health on InternalGrpcListen; each answers UNIMPLEMENTED for the other's methods.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ListenerTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private TestHost? _host;
    private HttpClient? _public;
    private HttpClient? _internal;

    public static TheoryData<string> InternalMethods() => Paths(CacheNode.Descriptor);

    public static TheoryData<string> PublicMethods()
    {
        var paths = Paths(PublicApi.Descriptor);
        paths.Add("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
        return paths;
    }

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartReadyAsync(TestHost.Settings("all", mariaDb.Server.ConnectionString(), "listen" + Guid.NewGuid().ToString("N")[..8]));
        _public = new HttpClient { BaseAddress = _host.Grpc };
        _internal = new HttpClient { BaseAddress = _host.Internal };
    }

    public async Task DisposeAsync()
    {
        _public?.Dispose();
        _internal?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(InternalMethods))]
    public async Task Every_internal_method_called_on_the_public_port_is_unimplemented(string path)
    {
        var response = await RawGrpc.PostAsync(_public!, path, RawGrpc.Body(RawGrpc.Frame(0, [])));

        Assert.Equal(StatusCode.Unimplemented, response.Code);
    }

    [Theory]
    [MemberData(nameof(PublicMethods))]
    public async Task Every_public_method_called_on_the_internal_port_is_unimplemented(string path)
    {
        var response = await RawGrpc.PostAsync(_internal!, path, RawGrpc.Body(RawGrpc.Frame(0, [])));

        Assert.Equal(StatusCode.Unimplemented, response.Code);
    }

    [Fact]
    public async Task An_internal_method_called_on_the_public_port_naming_the_internal_port_as_its_host_is_unimplemented()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/readhistory.internal.v1.CacheNode/Stats") { Content = RawGrpc.Body(RawGrpc.Frame(0, [])) };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.Host = _host!.Internal.Authority;

        var response = await RawGrpc.SendAsync(_public!, request);

        Assert.Equal(StatusCode.Unimplemented, response.Code);
    }

    [Fact]
    public async Task The_internal_port_serves_the_cache_node_api()
    {
        using var channel = GrpcChannel.ForAddress(_host!.Internal);

        var stats = await new CacheNode.CacheNodeClient(channel).StatsAsync(new ReadHistory.Api.Internal.V1.StatsRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.Equal("default", Assert.Single(stats.Pools).Pool);
    }

    [Fact]
    public async Task Health_answers_on_both_ports_the_internal_one_for_the_cache_node_service()
    {
        using var publicChannel = GrpcChannel.ForAddress(_host!.Grpc);
        using var internalChannel = GrpcChannel.ForAddress(_host.Internal);

        var server = await new Health.HealthClient(publicChannel).CheckAsync(new HealthCheckRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        var node = await new Health.HealthClient(internalChannel).CheckAsync(new HealthCheckRequest { Service = CacheNode.Descriptor.FullName }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, server.Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, node.Status);
    }

    [Fact]
    public async Task A_proxy_without_a_cache_role_opens_no_internal_listener()
    {
        var settings = TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), "listen" + Guid.NewGuid().ToString("N")[..8]);
        await using var proxy = await TestHost.StartReadyAsync(settings);

        Assert.Throws<InvalidOperationException>(() => proxy.Internal);
    }

    [Fact]
    public void The_internal_listener_on_the_public_port_is_refused()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ServerHost.Build([], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReadHistory:GrpcListen"] = "127.0.0.1:50061",
            ["ReadHistory:InternalGrpcListen"] = "0.0.0.0:50061",
        })));

        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:InternalGrpcListen: '0.0.0.0:50061' is the public GrpcListen's port", StringComparison.Ordinal));
    }

    private static TheoryData<string> Paths(ServiceDescriptor service)
    {
        var paths = new TheoryData<string>();
        foreach (var method in service.Methods)
        {
            paths.Add("/" + service.FullName + "/" + method.Name);
        }

        return paths;
    }
}
