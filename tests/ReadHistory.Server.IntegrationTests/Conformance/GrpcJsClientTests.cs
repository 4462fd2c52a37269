using System.Text.Json;
using Grpc.Core;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>The independent @grpc/grpc-js client (Conformance/js/client.js) calls our server (roles all) on Grpc.AspNetCore.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class GrpcJsClientTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private TestHost? _host;

    public async Task InitializeAsync()
    {
        await NodePeer.EnsureInstalledAsync();
        _host = await TestHost.StartReadyAsync(TestHost.Settings("all", mariaDb.Server.ConnectionString(), "js" + Guid.NewGuid().ToString("N")[..8]));
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Unary_mark_then_check()
    {
        var result = await RunAsync("unary");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal(1, result.GetProperty("written").GetInt32());
        Assert.Equal("02", result.GetProperty("bitmap").GetString());
        Assert.Equal(1, result.GetProperty("unread").GetInt32());
    }

    [Fact]
    public async Task Client_streaming_ingest_counts_accepted_and_rejected_rows()
    {
        var result = await RunAsync("client-stream");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal("6", result.GetProperty("accepted").GetString());
        Assert.Equal("1", result.GetProperty("rejected").GetString());
        Assert.StartsWith("user_id:", result.GetProperty("firstError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_exceeded()
    {
        var result = await RunAsync("deadline");

        Assert.Equal((int)StatusCode.DeadlineExceeded, result.GetProperty("code").GetInt32());
        Assert.InRange(result.GetProperty("elapsedMs").GetInt32(), 0, 15_000);
    }

    [Fact]
    public async Task Oversize_request_is_resource_exhausted()
    {
        var result = await RunAsync("oversize-request");

        Assert.Equal((int)StatusCode.ResourceExhausted, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Invalid_argument_names_the_field()
    {
        var result = await RunAsync("invalid-argument");

        Assert.Equal((int)StatusCode.InvalidArgument, result.GetProperty("code").GetInt32());
        Assert.StartsWith("user_id:", result.GetProperty("details").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown-method")]
    [InlineData("unknown-service")]
    public async Task Unknown_method_or_service_is_unimplemented(string caseName)
    {
        var result = await RunAsync(caseName);

        Assert.Equal((int)StatusCode.Unimplemented, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Custom_ascii_and_binary_metadata_are_accepted()
    {
        var result = await RunAsync("metadata");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal(1, result.GetProperty("unread").GetInt32());
    }

    [Fact]
    public async Task Error_status_with_a_non_ascii_message()
    {
        // Snapshot is an internal method: served on the internal listener only.
        var result = await NodePeer.RunClientAsync(_host!.Internal.Authority, "error-non-ascii");

        Assert.Equal((int)StatusCode.NotFound, result.GetProperty("code").GetInt32());
        Assert.Equal("pool 'résumé ✓ 中文 100% done' is not held by this node (it holds 'default')", result.GetProperty("details").GetString());
    }

    [Fact]
    public async Task Health_check_of_the_whole_server_is_serving()
    {
        var result = await RunAsync("health");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal("0801", result.GetProperty("bytes").GetString());
    }

    private Task<JsonElement> RunAsync(string caseName) => NodePeer.RunClientAsync(_host!.Grpc.Authority, caseName);
}
