using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReadHistory.Api.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Health;
using ReadHistory.Rpc.Health.V1;
using ReadHistory.Server.Hosting;
using SchemaMigrator = ReadHistory.Server.Storage.SchemaMigrator;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

[Collection(MariaDbFixture.Collection)]
public sealed class ServerHostTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private readonly string _prefix = "host" + Guid.NewGuid().ToString("N")[..8];
    private WebApplication? _app;
    private Uri _grpc = null!;
    private Uri _http = null!;

    public async Task InitializeAsync()
    {
        var settings = Settings(mariaDb.Server.ConnectionString(), _prefix);
        var options = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("ReadHistory").Get<ReadHistoryOptions>()!;
        await SchemaMigrator.MigrateAsync(options.Database, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None).DefaultTimeout();
        _app = ServerHost.Build([], configuration => configuration.AddInMemoryCollection(settings));
        await _app.StartAsync().DefaultTimeout();
        await WaitReadyAsync(_app).DefaultTimeout();
        (_grpc, _http) = Addresses(_app);
    }

    private static Dictionary<string, string?> Settings(string connectionString, string prefix) => new()
    {
        ["ReadHistory:Roles"] = "proxy",
        ["ReadHistory:GrpcListen"] = "127.0.0.1:0",
        ["ReadHistory:HttpListen"] = "127.0.0.1:0",
        ["ReadHistory:ShutdownGrace"] = "00:00:02",
        ["ReadHistory:Database:ConnectionString"] = connectionString,
        ["ReadHistory:Database:DatabasePrefix"] = prefix,
    };

    private static (Uri Grpc, Uri Http) Addresses(WebApplication app)
    {
        // Kestrel lists endpoints in the order they were configured: gRPC first, then HTTP.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        Assert.Equal(2, addresses.Count);
        return (addresses[0], addresses[1]);
    }

    private static async Task WaitReadyAsync(WebApplication app)
    {
        using var client = new HttpClient();
        var http = Addresses(app).Http;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if ((await client.GetAsync(new Uri(http, "/readyz"))).IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the host did not become ready");
    }

    private static CallOptions Deadline() => new(deadline: DateTime.UtcNow.AddSeconds(20));

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().DefaultTimeout();
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Marked_reads_are_reported_by_check_and_filter_from_the_database()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        var invoker = channel.CreateCallInvoker();
        var mark = new MarkReadRequest { UserId = 42, ContentType = 3, Items = { new ReadItem { ContentId = 7 }, new ReadItem { ContentId = 9 }, new ReadItem { ContentId = 7 } } };
        var marked = await invoker.AsyncUnaryCall(ReadHistoryMethods.MarkRead, null, Deadline(), mark).ResponseAsync.DefaultTimeout();
        Assert.Equal(2u, marked.Written);

        var check = new CheckRequest { UserId = 42, ContentType = 3, ContentIds = { 1, 7, 8, 9, 10, 11, 12, 13, 7 } };
        var checkedIds = await invoker.AsyncUnaryCall(ReadHistoryMethods.Check, null, Deadline(), check).ResponseAsync.DefaultTimeout();
        Assert.Equal(AnswerSource.Database, checkedIds.Source);
        Assert.Equal(new byte[] { 0b0000_1010, 0b0000_0001 }, checkedIds.ReadBitmap.ToByteArray());
        Assert.Equal(6u, checkedIds.UnreadCount);

        var filtered = await invoker.AsyncUnaryCall(ReadHistoryMethods.Filter, null, Deadline(), check).ResponseAsync.DefaultTimeout();
        Assert.Equal(new ulong[] { 1, 8, 10, 11, 12, 13 }, filtered.UnreadIds);

        var otherType = new CheckRequest { UserId = 42, ContentType = 4, ContentIds = { 7 } };
        var none = await invoker.AsyncUnaryCall(ReadHistoryMethods.Check, null, Deadline(), otherType).ResponseAsync.DefaultTimeout();
        Assert.Equal(1u, none.UnreadCount);
    }

    [Fact]
    public async Task Forget_user_removes_every_row_of_the_user()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        var invoker = channel.CreateCallInvoker();
        await invoker.AsyncUnaryCall(ReadHistoryMethods.MarkRead, null, Deadline(), new MarkReadRequest { UserId = 77, Items = { new ReadItem { ContentId = 1 }, new ReadItem { ContentId = 2 } } }).ResponseAsync.DefaultTimeout();
        var forgot = await invoker.AsyncUnaryCall(ReadHistoryMethods.ForgetUser, null, Deadline(), new ForgetUserRequest { UserId = 77 }).ResponseAsync.DefaultTimeout();
        Assert.Equal(2ul, forgot.RowsRemoved);
        var check = await invoker.AsyncUnaryCall(ReadHistoryMethods.Check, null, Deadline(), new CheckRequest { UserId = 77, ContentIds = { 1, 2 } }).ResponseAsync.DefaultTimeout();
        Assert.Equal(2u, check.UnreadCount);
    }

    [Fact]
    public async Task Ingest_counts_accepted_and_rejected_and_writes_the_valid_batches()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        var invoker = channel.CreateCallInvoker();
        using var call = invoker.AsyncClientStreamingCall(ReadHistoryMethods.Ingest, null, Deadline());
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = new MarkReadRequest { UserId = 5, Items = { new ReadItem { ContentId = 10 }, new ReadItem { ContentId = 11 } } } }).DefaultTimeout();
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = new MarkReadRequest { UserId = 0, Items = { new ReadItem { ContentId = 12 } } } }).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var response = await call.ResponseAsync.DefaultTimeout();
        Assert.Equal(2ul, response.Accepted);
        Assert.Equal(1ul, response.Rejected);
        Assert.StartsWith("user_id:", response.FirstError, StringComparison.Ordinal);
        var check = await invoker.AsyncUnaryCall(ReadHistoryMethods.Check, null, Deadline(), new CheckRequest { UserId = 5, ContentIds = { 10, 11 } }).ResponseAsync.DefaultTimeout();
        Assert.Equal(0u, check.UnreadCount);
    }

    [Fact]
    public async Task Without_a_reachable_database_the_node_is_not_ready_and_calls_are_unavailable()
    {
        var settings = Settings($"Server=127.0.0.1;Port={FreePort.Next()};User ID=nobody;Password=x;SslMode=None;Connection Timeout=1", _prefix);
        await using var app = ServerHost.Build([], configuration => configuration.AddInMemoryCollection(settings));
        await app.StartAsync().DefaultTimeout();
        try
        {
            var (grpc, http) = Addresses(app);
            using var client = new HttpClient();
            var ready = await client.GetAsync(new Uri(http, "/readyz")).DefaultTimeout();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("database", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var channel = GrpcChannel.ForAddress(grpc);
            var error = await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(ReadHistoryMethods.Check, null, Deadline(), new CheckRequest { UserId = 1, ContentIds = { 1 } })).DefaultTimeout();
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        }
        finally
        {
            await app.StopAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task Grpc_health_reports_serving_once_ready()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        var invoker = channel.CreateCallInvoker();
        var status = HealthCheckResponse.Types.ServingStatus.Unknown;
        for (var attempt = 0; attempt < 100 && status != HealthCheckResponse.Types.ServingStatus.Serving; attempt++)
        {
            status = (await invoker.AsyncUnaryCall(HealthMethods.Check, null, Deadline(), new HealthCheckRequest { Service = ReadHistoryMethods.ServiceName }).ResponseAsync.DefaultTimeout()).Status;
            await Task.Delay(50);
        }

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, status);
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(HealthMethods.Check, null, Deadline(), new HealthCheckRequest { Service = "no.such.Service" })).DefaultTimeout();
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_http, "/healthz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_answers_ready_when_nothing_is_pending()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_http, "/readyz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_names_the_component_that_is_not_ready()
    {
        _app!.Services.GetRequiredService<Readiness>().Register("database", static _ => ValueTask.FromResult(false));
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_http, "/readyz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("database", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_check_with_user_zero_gets_invalid_argument_naming_the_field()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        var request = new CheckRequest { UserId = 0, ContentIds = { 1, 2 } };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(ReadHistoryMethods.Check, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), request)).DefaultTimeout();
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("user_id:", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_calls_by_method_and_status()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(ReadHistoryMethods.Filter, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), new CheckRequest())).DefaultTimeout();
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(_http, "/metrics")).DefaultTimeout();
        Assert.Contains("readhistory_rpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Filter\",role=\"proxy\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("readhistory_rpc_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
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
