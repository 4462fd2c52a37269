using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Auth;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// API keys on a proxy in front of remote nodes, on both of its paths (bytes forwarded, and requests decoded): the
/// key's default tenant routes a call that names none, and every BatchCheck entry's tenant is checked.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ProxyApiKeyTests(MariaDbFixture mariaDb)
{
    private const string Key = "rh_test_proxy_feed_writer";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_call_without_a_tenant_is_routed_to_the_keys_default_tenant_and_a_foreign_batch_entry_is_denied(bool forwardBytes)
    {
        await using var cluster = await StartAsync(forwardBytes);
        var client = new ReadHistoryClient(cluster.Invoker);

        // Only pool "feed" exists: without the key's default tenant, a call naming no tenant would be NOT_FOUND.
        var written = await client.MarkReadAsync(new MarkReadRequest { UserId = 31, Items = { new ReadItem { ContentId = 1 } } }, As(Key)).ResponseAsync.DefaultTimeout();
        var answer = await client.CheckAsync(new CheckRequest { UserId = 31, ContentIds = { 1, 2 } }, As(Key)).ResponseAsync.DefaultTimeout();
        var batch = new BatchCheckRequest { Requests = { new CheckRequest { UserId = 31, ContentIds = { 1 } }, new CheckRequest { UserId = 32, ContentIds = { 1 }, Tenant = "push" } } };
        var denied = await Assert.ThrowsAsync<RpcException>(() => client.BatchCheckAsync(batch, As(Key)).ResponseAsync).DefaultTimeout();
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(new CheckRequest { UserId = 31, ContentIds = { 1 } }, TestHostDeadline()).ResponseAsync).DefaultTimeout();

        Assert.Equal(1u, written.Written);
        Assert.Equal(1u, answer.UnreadCount);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
    }

    private Task<ProxyCluster> StartAsync(bool forwardBytes) =>
        ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("feed", ["feed"], 1, 1), ("push", ["push"], 1, 1)], new Dictionary<string, string?>
        {
            ["ReadHistory:Proxy:ForwardBytes"] = forwardBytes ? "true" : "false",
            ["ReadHistory:Auth:Mode"] = "ApiKeys",
            ["ReadHistory:Auth:Keys:feed-writer:Sha256"] = ApiKeyRing.HashOf(Key),
            ["ReadHistory:Auth:Keys:feed-writer:Tenants:0"] = "feed",
            ["ReadHistory:Auth:Keys:feed-writer:Scopes:0"] = "read",
            ["ReadHistory:Auth:Keys:feed-writer:Scopes:1"] = "write",
        });

    private static CallOptions As(string key) => new(new Metadata { { "authorization", "Bearer " + key } }, DateTime.UtcNow.AddSeconds(20));

    private static CallOptions TestHostDeadline() => new(deadline: DateTime.UtcNow.AddSeconds(20));
}
