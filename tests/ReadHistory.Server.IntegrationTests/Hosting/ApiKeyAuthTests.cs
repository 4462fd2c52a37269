using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReadHistory.Api.V1;
using ReadHistory.Server.Auth;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>
/// Bearer API keys on the public API of a real host (roles all, Auth:Mode ApiKeys), the keys in a JSON file the host
/// watches: who may call, with which scope, for which tenants, and a key revoked by rewriting the file.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ApiKeyAuthTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private const string ReaderKey = "rh_test_reader_7f3a9c";
    private const string WriterKey = "rh_test_writer_51be02";
    private const string ForgetterKey = "rh_test_forgetter_c4d1e8";
    private readonly string _keysFile = Path.Combine(Path.GetTempPath(), "readhistory-keys-" + Guid.NewGuid().ToString("N") + ".json");
    private TestHost? _host;
    private GrpcChannel? _channel;

    private ReadHistoryClient Client => new(_channel!);

    public async Task InitializeAsync()
    {
        WriteKeys(("feed-reader", ReaderKey, ["feed", "feed-eu"], ["read"]), ("feed-writer", WriterKey, ["feed"], ["read", "write"]), ("gdpr", ForgetterKey, ["feed"], ["forget"]));
        var settings = TestHost.Settings("all", mariaDb.Server.ConnectionString(), "auth" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:Auth:Mode"] = "ApiKeys";
        _host = await TestHost.StartReadyAsync(settings, configuration => configuration.AddJsonFile(_keysFile, optional: false, reloadOnChange: true));
        _channel = GrpcChannel.ForAddress(_host.Grpc);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        File.Delete(_keysFile);
    }

    [Fact]
    public async Task A_call_without_a_key_is_unauthenticated()
    {
        var error = await FailsAsync(Client.CheckAsync(Check("feed"), TestHost.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task A_call_with_a_key_not_in_force_is_unauthenticated()
    {
        var error = await FailsAsync(Client.CheckAsync(Check("feed"), As("rh_test_nobody")).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task A_key_reads_its_own_tenants_and_its_default_tenant_when_the_call_names_none()
    {
        var named = await Client.CheckAsync(Check("feed-eu"), As(ReaderKey)).ResponseAsync.DefaultTimeout();
        var unnamed = await Client.CheckAsync(Check(string.Empty), As(ReaderKey)).ResponseAsync.DefaultTimeout();

        Assert.Equal(2u, named.UnreadCount);
        Assert.Equal(2u, unnamed.UnreadCount);
    }

    [Fact]
    public async Task Another_tenant_is_permission_denied_naming_neither_the_key_nor_its_tenants()
    {
        var error = await FailsAsync(Client.CheckAsync(Check("push"), As(ReaderKey)).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.DoesNotContain("feed", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(ReaderKey, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_method_outside_the_keys_scopes_is_permission_denied_naming_the_scope()
    {
        var mark = new MarkReadRequest { UserId = 5, Tenant = "feed", Items = { new ReadItem { ContentId = 1 } } };

        var error = await FailsAsync(Client.MarkReadAsync(mark, As(ReaderKey)).ResponseAsync);
        var forget = await FailsAsync(Client.ForgetUserAsync(new ForgetUserRequest { UserId = 5 }, As(WriterKey)).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("'write'", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("feed", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.PermissionDenied, forget.StatusCode);
        Assert.Contains("'forget'", forget.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_scope_opens_its_methods()
    {
        var mark = new MarkReadRequest { UserId = 6, Items = { new ReadItem { ContentId = 1 } } };

        var written = await Client.MarkReadAsync(mark, As(WriterKey)).ResponseAsync.DefaultTimeout();
        var forgotten = await Client.ForgetUserAsync(new ForgetUserRequest { UserId = 6 }, As(ForgetterKey)).ResponseAsync.DefaultTimeout();

        Assert.Equal(1u, written.Written);
        Assert.Equal(1ul, forgotten.RowsRemoved);
    }

    [Fact]
    public async Task A_batch_with_one_entry_of_another_tenant_is_permission_denied()
    {
        var batch = new BatchCheckRequest { Tenant = "feed", Requests = { Check(string.Empty), Check("feed-eu"), Check("push") } };

        var error = await FailsAsync(Client.BatchCheckAsync(batch, As(ReaderKey)).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task An_ingest_stream_ends_permission_denied_at_a_message_of_another_tenant()
    {
        using var call = Client.Ingest(As(WriterKey));
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = new MarkReadRequest { UserId = 7, Items = { new ReadItem { ContentId = 1 } } } }).DefaultTimeout();
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = new MarkReadRequest { UserId = 7, Tenant = "push", Items = { new ReadItem { ContentId = 2 } } } }).DefaultTimeout();

        var error = await FailsAsync(call.ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task A_key_removed_from_the_watched_file_is_refused_without_a_restart()
    {
        await Client.CheckAsync(Check("feed"), As(ReaderKey)).ResponseAsync.DefaultTimeout();

        WriteKeys(("feed-writer", WriterKey, ["feed"], ["read", "write"]));

        await Poll.UntilAsync(() => IsUnauthenticatedAsync(ReaderKey), "the revoked key to be refused");
        var kept = await Client.CheckAsync(Check("feed"), As(WriterKey)).ResponseAsync.DefaultTimeout();
        Assert.Equal(2u, kept.UnreadCount);
    }

    [Fact]
    public async Task On_one_connection_each_call_is_judged_by_the_key_it_presents_not_by_the_previous_call()
    {
        // One channel, one HTTP/2 connection: the connection remembers its last successful key (ConnectionAuthentication).
        var mark = new MarkReadRequest { UserId = 8, Tenant = "feed", Items = { new ReadItem { ContentId = 1 } } };

        var written = await Client.MarkReadAsync(mark, As(WriterKey)).ResponseAsync.DefaultTimeout();
        var readerWrites = await FailsAsync(Client.MarkReadAsync(mark, As(ReaderKey)).ResponseAsync);
        var readerOnFeedEu = await Client.CheckAsync(Check("feed-eu"), As(ReaderKey)).ResponseAsync.DefaultTimeout();
        var writerOnFeedEu = await FailsAsync(Client.CheckAsync(Check("feed-eu"), As(WriterKey)).ResponseAsync);
        var noKey = await FailsAsync(Client.CheckAsync(Check("feed"), TestHost.Deadline()).ResponseAsync);
        var unknownKey = await FailsAsync(Client.CheckAsync(Check("feed"), As(WriterKey + "x")).ResponseAsync);

        Assert.Equal(1u, written.Written);
        Assert.Equal(StatusCode.PermissionDenied, readerWrites.StatusCode);
        Assert.Equal(2u, readerOnFeedEu.UnreadCount);
        Assert.Equal(StatusCode.PermissionDenied, writerOnFeedEu.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, noKey.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, unknownKey.StatusCode);
    }

    [Fact]
    public async Task Calls_on_one_connection_with_one_key_are_judged_by_the_key_scheme_once()
    {
        var ring = _host!.App.Services.GetRequiredService<ApiKeyRing>();
        await Client.CheckAsync(Check("feed"), As(ReaderKey)).ResponseAsync.DefaultTimeout();
        var afterFirst = ring.Lookups;

        for (var i = 0; i < 20; i++)
        {
            await Client.CheckAsync(Check("feed"), As(ReaderKey)).ResponseAsync.DefaultTimeout();
        }

        Assert.Equal(afterFirst, ring.Lookups);
        Assert.InRange(afterFirst, 1, 1);
    }

    [Fact]
    public async Task A_channel_made_with_a_bearer_token_sends_it_on_every_call()
    {
        using var channel = ReadHistory.Api.ServiceChannels.Create(_host!.Grpc, bearerToken: ReaderKey);

        var answer = await new ReadHistoryClient(channel).CheckAsync(Check("feed"), TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.Equal(2u, answer.UnreadCount);
    }

    [Fact]
    public async Task Health_answers_without_a_key()
    {
        var health = await new Health.HealthClient(_channel!).CheckAsync(new HealthCheckRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public void Authentication_off_on_a_public_address_is_refused_unless_anonymous_access_is_allowed()
    {
        var settings = new Dictionary<string, string?> { ["ReadHistory:Roles"] = "proxy", ["ReadHistory:GrpcListen"] = "0.0.0.0:0" };

        var error = Assert.Throws<OptionsValidationException>(() => ServerHost.Build([], c => c.AddInMemoryCollection(settings)));
        settings["ReadHistory:Auth:AllowAnonymous"] = "true";
        var allowed = ServerHost.Build([], c => c.AddInMemoryCollection(settings));

        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:Auth:Mode: authentication is off and the public API listens on '0.0.0.0:0'", StringComparison.Ordinal));
        Assert.NotNull(allowed);
    }

    private static CheckRequest Check(string tenant) => new() { UserId = 4242, ContentIds = { 1, 2 }, Tenant = tenant };

    private static CallOptions As(string key) => new(new Metadata { { "authorization", "Bearer " + key } }, DateTime.UtcNow.AddSeconds(20));

    private static async Task<RpcException> FailsAsync(Task call) => await Assert.ThrowsAsync<RpcException>(() => call).DefaultTimeout();

    private async Task<bool> IsUnauthenticatedAsync(string key)
    {
        try
        {
            await Client.CheckAsync(Check("feed"), As(key)).ResponseAsync;
            return false;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
        {
            return true;
        }
    }

    private void WriteKeys(params (string Id, string Key, string[] Tenants, string[] Scopes)[] keys)
    {
        var json = new Dictionary<string, object>
        {
            ["ReadHistory"] = new Dictionary<string, object>
            {
                ["Auth"] = new Dictionary<string, object>
                {
                    ["Keys"] = keys.ToDictionary(k => k.Id, k => (object)new { Sha256 = ApiKeyRing.HashOf(k.Key), k.Tenants, k.Scopes }),
                },
            },
        };
        // Written whole then moved over, so the watcher never reads half a file.
        var temporary = _keysFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(json));
        File.Move(temporary, _keysFile, overwrite: true);
    }
}
