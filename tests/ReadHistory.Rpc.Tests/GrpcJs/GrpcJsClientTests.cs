using System.Text.Json;
using Xunit;

namespace ReadHistory.Rpc.Tests.GrpcJs;

/// <summary>The independent @grpc/grpc-js client calls our server.</summary>
[Collection(ConformanceGroup.Name)]
public class GrpcJsClientTests(ConformanceFixture fixture)
{
    private Task<JsonElement> RunAsync(string caseName) => NodePeer.RunClientAsync(fixture.OurHostAndPort, caseName);

    [Fact]
    public async Task Unary()
    {
        var result = await RunAsync("unary");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal("hello", result.GetProperty("text").GetString());
        Assert.Equal(3, result.GetProperty("payloadLength").GetInt32());
    }

    [Fact]
    public async Task Client_streaming()
    {
        var result = await RunAsync("client-stream");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal("a,b,c", result.GetProperty("text").GetString());
        Assert.Equal(3, result.GetProperty("count").GetInt32());
        Assert.Equal(30, result.GetProperty("bytes").GetInt32());
    }

    [Fact]
    public async Task Server_streaming()
    {
        var result = await RunAsync("server-stream");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal([0, 1, 2, 3, 4], result.GetProperty("indices").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public async Task Server_streaming_error_after_messages()
    {
        var result = await RunAsync("server-stream-error");

        Assert.Equal((int)StatusCode.Aborted, result.GetProperty("code").GetInt32());
        Assert.Equal("stopped ✗", result.GetProperty("details").GetString());
        Assert.Equal(3, result.GetProperty("indices").GetArrayLength());
        Assert.Equal("asked", result.GetProperty("trailers").GetProperty("x-failure").GetString());
    }

    [Fact]
    public async Task Deadline_exceeded()
    {
        var result = await RunAsync("deadline");

        Assert.Equal((int)StatusCode.DeadlineExceeded, result.GetProperty("code").GetInt32());
        Assert.InRange(result.GetProperty("elapsedMs").GetInt32(), 250, 15_000);
    }

    [Fact]
    public async Task The_grpc_timeout_it_sends_becomes_our_handlers_deadline()
    {
        var result = await RunAsync("deadline-seen");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.InRange(result.GetProperty("deadlineRemainingMs").GetInt64(), 5_000, 20_000);
    }

    [Fact]
    public async Task Oversize_request_is_resource_exhausted()
    {
        var result = await RunAsync("oversize-request");

        Assert.Equal((int)StatusCode.ResourceExhausted, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Oversize_response_is_resource_exhausted()
    {
        var result = await RunAsync("oversize-response");

        Assert.Equal((int)StatusCode.ResourceExhausted, result.GetProperty("code").GetInt32());
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
    public async Task Metadata_round_trip()
    {
        var result = await RunAsync("metadata");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        foreach (var part in new[] { "headers", "trailers" })
        {
            var metadata = result.GetProperty(part);
            Assert.Equal("hello world", metadata.GetProperty("x-ascii").GetString());
            Assert.Equal(new byte[] { 0, 1, 2, 254, 255 }, Convert.FromBase64String(metadata.GetProperty("x-data-bin").GetString()!));
        }
    }

    [Fact]
    public async Task Error_status_with_a_non_ascii_message()
    {
        var result = await RunAsync("error-non-ascii");

        Assert.Equal((int)StatusCode.FailedPrecondition, result.GetProperty("code").GetInt32());
        Assert.Equal("résumé ✓ 中文 100% done", result.GetProperty("details").GetString());
        Assert.Equal("asked", result.GetProperty("trailers").GetProperty("x-failure").GetString());
    }

    [Fact]
    public async Task Handler_exception_is_unknown_without_internals()
    {
        var result = await RunAsync("handler-exception");

        Assert.Equal((int)StatusCode.Unknown, result.GetProperty("code").GetInt32());
        Assert.DoesNotContain("hunter2", result.GetProperty("details").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzip_request()
    {
        var result = await RunAsync("gzip");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal(20_000, result.GetProperty("payloadLength").GetInt32());
    }

    [Fact]
    public async Task Health_check()
    {
        var result = await RunAsync("health");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal("0801", result.GetProperty("bytes").GetString());
    }
}
