using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Health.V1;
using ReadHistory.Server.Hosting;
using SchemaMigrator = ReadHistory.Server.Storage.SchemaMigrator;
using ReadHistory.TestSupport;
using Xunit;
using HealthClient = Grpc.Health.V1.Health.HealthClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

[Collection(MariaDbFixture.Collection)]
public sealed class ServerHostTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private readonly string _prefix = "host" + Guid.NewGuid().ToString("N")[..8];
    private TestHost? _host;

    private Uri Grpc => _host!.Grpc;

    private Uri Http => _host!.Http;

    public async Task InitializeAsync() =>
        _host = await TestHost.StartReadyAsync(TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), _prefix));

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Marked_reads_are_reported_by_check_and_filter_from_the_database()
    {
        using var channel = GrpcChannel.ForAddress(Grpc);
        var invoker = channel.CreateCallInvoker();
        var mark = new MarkReadRequest { UserId = 42, ContentType = 3, Items = { new ReadItem { ContentId = 7 }, new ReadItem { ContentId = 9 }, new ReadItem { ContentId = 7 } } };
        var marked = await new ReadHistoryClient(invoker).MarkReadAsync(mark, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(2u, marked.Written);

        var check = new CheckRequest { UserId = 42, ContentType = 3, ContentIds = { 1, 7, 8, 9, 10, 11, 12, 13, 7 } };
        var checkedIds = await new ReadHistoryClient(invoker).CheckAsync(check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(AnswerSource.Database, checkedIds.Source);
        Assert.Equal(new byte[] { 0b0000_1010, 0b0000_0001 }, checkedIds.ReadBitmap.ToByteArray());
        Assert.Equal(6u, checkedIds.UnreadCount);

        var filtered = await new ReadHistoryClient(invoker).FilterAsync(check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(new ulong[] { 1, 8, 10, 11, 12, 13 }, filtered.UnreadIds);

        var otherType = new CheckRequest { UserId = 42, ContentType = 4, ContentIds = { 7 } };
        var none = await new ReadHistoryClient(invoker).CheckAsync(otherType, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(1u, none.UnreadCount);
    }

    [Fact]
    public async Task Forget_user_removes_every_row_of_the_user()
    {
        using var channel = GrpcChannel.ForAddress(Grpc);
        var invoker = channel.CreateCallInvoker();
        await new ReadHistoryClient(invoker).MarkReadAsync(new MarkReadRequest { UserId = 77, Items = { new ReadItem { ContentId = 1 }, new ReadItem { ContentId = 2 } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        var forgot = await new ReadHistoryClient(invoker).ForgetUserAsync(new ForgetUserRequest { UserId = 77 }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(2ul, forgot.RowsRemoved);
        var check = await new ReadHistoryClient(invoker).CheckAsync(new CheckRequest { UserId = 77, ContentIds = { 1, 2 } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(2u, check.UnreadCount);
    }

    [Fact]
    public async Task Ingest_counts_accepted_and_rejected_and_writes_the_valid_batches()
    {
        using var channel = GrpcChannel.ForAddress(Grpc);
        var invoker = channel.CreateCallInvoker();
        using var call = new ReadHistoryClient(invoker).Ingest(TestHost.Deadline());
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = new MarkReadRequest { UserId = 5, Items = { new ReadItem { ContentId = 10 }, new ReadItem { ContentId = 11 } } } }).DefaultTimeout();
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = new MarkReadRequest { UserId = 0, Items = { new ReadItem { ContentId = 12 } } } }).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var response = await call.ResponseAsync.DefaultTimeout();
        Assert.Equal(2ul, response.Accepted);
        Assert.Equal(1ul, response.Rejected);
        Assert.StartsWith("user_id:", response.FirstError, StringComparison.Ordinal);
        var check = await new ReadHistoryClient(invoker).CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 10, 11 } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(0u, check.UnreadCount);
    }

    [Fact]
    public async Task Without_a_reachable_database_the_node_is_not_ready_and_calls_are_unavailable()
    {
        var settings = TestHost.Settings("proxy", $"Server=127.0.0.1;Port={FreePort.Next()};User ID=nobody;Password=x;SslMode=None;Connection Timeout=1", _prefix);
        await using var host = await TestHost.StartAsync(settings);
        {
            var (grpc, http) = (host.Grpc, host.Http);
            using var client = new HttpClient();
            var ready = await client.GetAsync(new Uri(http, "/readyz")).DefaultTimeout();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("database", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var channel = GrpcChannel.ForAddress(grpc);
            var error = await Assert.ThrowsAsync<RpcException>(async () => await new ReadHistoryClient(channel.CreateCallInvoker()).CheckAsync(new CheckRequest { UserId = 1, ContentIds = { 1 } }, TestHost.Deadline())).DefaultTimeout();
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        }
    }

    [Fact]
    public async Task Grpc_health_reports_serving_once_ready()
    {
        using var channel = GrpcChannel.ForAddress(Grpc);
        var invoker = channel.CreateCallInvoker();
        // On a loaded machine the health status may follow readiness late.
        var status = (await Poll.UntilAsync(
            () => new HealthClient(invoker).CheckAsync(new HealthCheckRequest { Service = ReadHistory.Api.V1.ReadHistory.Descriptor.FullName }, TestHost.Deadline()).ResponseAsync,
            static r => r.Status == HealthCheckResponse.Types.ServingStatus.Serving,
            "grpc.health.v1 to report SERVING")).Status;

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, status);
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await new HealthClient(invoker).CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }, TestHost.Deadline())).DefaultTimeout();
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(Http, "/healthz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_answers_ready_when_nothing_is_pending()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(Http, "/readyz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_names_the_component_that_is_not_ready()
    {
        _host!.App.Services.GetRequiredService<Readiness>().Register("database", static _ => ValueTask.FromResult(false));
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(Http, "/readyz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("database", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_check_with_user_zero_gets_invalid_argument_naming_the_field()
    {
        using var channel = GrpcChannel.ForAddress(Grpc);
        var request = new CheckRequest { UserId = 0, ContentIds = { 1, 2 } };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new ReadHistoryClient(channel.CreateCallInvoker()).CheckAsync(request, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)))).DefaultTimeout();
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("user_id:", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_calls_by_method_and_status()
    {
        using var channel = GrpcChannel.ForAddress(Grpc);
        await Assert.ThrowsAsync<RpcException>(async () => await new ReadHistoryClient(channel.CreateCallInvoker()).FilterAsync(new CheckRequest(), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)))).DefaultTimeout();
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(Http, "/metrics")).DefaultTimeout();
        Assert.Contains("readhistory_rpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Filter\",role=\"proxy\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("readhistory_rpc_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_the_client_cancels_is_counted_cancelled_and_not_logged_as_an_error()
    {
        var logs = LogCapture.Attach(_host!);
        using var channel = GrpcChannel.ForAddress(Grpc);
        var client = new ReadHistoryClient(channel.CreateCallInvoker());
        using var cancel = new CancellationTokenSource();
        using var call = client.Ingest(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20), cancellationToken: cancel.Token));
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = new MarkReadRequest { UserId = 88, Items = { new ReadItem { ContentId = 1 } } } }).DefaultTimeout();
        // Once the first batch is written the handler is inside the stream, waiting for the next message.
        await Poll.UntilAsync(async () => (await client.CheckAsync(new CheckRequest { UserId = 88, ContentIds = { 1 } }, TestHost.Deadline()).ResponseAsync).UnreadCount == 0, "the first batch to be written");

        await cancel.CancelAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        using var http = new HttpClient();
        var text = string.Empty;
        await Poll.UntilAsync(async () => (text = await http.GetStringAsync(new Uri(Http, "/metrics"))).Contains("readhistory_rpc_requests_total{code=\"CANCELLED\",method=\"Ingest\",role=\"proxy\"} 1\n", StringComparison.Ordinal), "the cancelled call to be counted");
        Assert.DoesNotContain("code=\"UNKNOWN\"", text, StringComparison.Ordinal);
        Assert.Empty(logs.AtOrAbove(LogLevel.Warning));
    }

    [Fact]
    public void Bad_configuration_is_refused_with_every_problem_named()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ServerHost.Build([], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReadHistory:Roles"] = "proxy,gateway",
            ["ReadHistory:GrpcListen"] = "nowhere",
            ["ReadHistory:Database:Databases"] = "0",
        })));
        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:Roles: role 'gateway'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:GrpcListen:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:Database:Databases:", StringComparison.Ordinal));
    }
}
