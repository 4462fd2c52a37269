using Grpc.Core;
using Microsoft.Extensions.Configuration;
using ReadHistory.Api.V1;
using ReadHistory.Server.Auth;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// Call rates at a proxy in front of remote nodes, over real gRPC on both of its paths (bytes forwarded, and requests
/// decoded): with API keys each key has its own budget on a tenant, and a BatchCheck is charged to every tenant its
/// entries name. Rates of one call per 20 s, so that a loaded machine spreading the calls over seconds refills nothing.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ProxyRateLimitTests(MariaDbFixture mariaDb)
{
    private const string RankerA = "rh_test_limits_ranker_a";
    private const string RankerB = "rh_test_limits_ranker_b";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Two_api_keys_on_one_tenant_have_separate_budgets(bool forwardBytes)
    {
        await using var cluster = await StartAsync(forwardBytes, new()
        {
            ["ReadHistory:Proxy:Tenants:feed:CallsPerSecond"] = "0.05",
            ["ReadHistory:Proxy:Tenants:feed:Burst"] = "2",
        });
        var client = new ReadHistoryClient(cluster.Invoker);
        var check = new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "feed" };

        await client.CheckAsync(check, As(RankerA)).ResponseAsync.DefaultTimeout();
        await client.CheckAsync(check, As(RankerA)).ResponseAsync.DefaultTimeout();
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(check, As(RankerA)).ResponseAsync).DefaultTimeout();
        var other = await client.CheckAsync(check, As(RankerB)).ResponseAsync.DefaultTimeout();
        await client.CheckAsync(check, As(RankerB)).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.NotNull(refused.Trailers.GetValue("retry-after-ms"));
        Assert.StartsWith("API key 'ranker-a' is over its limit of calls per second on tenant 'feed'", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1u, other.UnreadCount);
    }

    [Fact]
    public async Task The_rate_limited_counter_names_the_key_that_was_refused()
    {
        await using var cluster = await StartAsync(forwardBytes: true, new()
        {
            ["ReadHistory:Proxy:Tenants:feed:CallsPerSecond"] = "0.05",
            ["ReadHistory:Proxy:Tenants:feed:Burst"] = "1",
        });
        var client = new ReadHistoryClient(cluster.Invoker);
        var check = new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "feed" };
        await client.CheckAsync(check, As(RankerA)).ResponseAsync.DefaultTimeout();

        await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(check, As(RankerA)).ResponseAsync).DefaultTimeout();

        var metrics = await cluster.Proxy.MetricsAsync();
        Assert.Contains("readhistory_proxy_rate_limited_total{tenant=\"feed\",key=\"ranker-a\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("key=\"ranker-b\"", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_batch_check_of_the_empty_tenant_with_an_entry_naming_default_is_charged_once(bool forwardBytes)
    {
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("default", ["", "default"], 1, 1)], new Dictionary<string, string?>
        {
            ["ReadHistory:Proxy:ForwardBytes"] = forwardBytes ? "true" : "false",
            ["ReadHistory:Proxy:Tenants:default:CallsPerSecond"] = "0.001",
            ["ReadHistory:Proxy:Tenants:default:Burst"] = "1",
        });
        var request = new BatchCheckRequest
        {
            Requests =
            {
                new CheckRequest { UserId = 7, ContentIds = { 1 } },
                new CheckRequest { UserId = 8, ContentIds = { 1 }, Tenant = "default" },
            },
        };

        var response = await new ReadHistoryClient(cluster.Invoker).BatchCheckAsync(request, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.All(response.Results, r => Assert.Equal(0, r.StatusCode));
    }

    [Fact]
    public async Task A_keys_own_rate_reloads_with_the_keys_without_a_restart()
    {
        var file = Path.Combine(Path.GetTempPath(), "readhistory-limits-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, "{}");
        try
        {
            var settings = new Dictionary<string, string?>
            {
                ["ReadHistory:Auth:Mode"] = "ApiKeys",
                ["ReadHistory:Auth:Keys:ranker-a:Sha256"] = ApiKeyRing.HashOf(RankerA),
                ["ReadHistory:Auth:Keys:ranker-a:Tenants:0"] = "feed",
                ["ReadHistory:Auth:Keys:ranker-a:Scopes:0"] = "read",
                ["ReadHistory:Proxy:Tenants:feed:CallsPerSecond"] = "0.001",
                ["ReadHistory:Proxy:Tenants:feed:Burst"] = "1",
            };
            await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("feed", ["feed"], 1, 1)], settings, moreProxyConfiguration: c => c.AddJsonFile(file, optional: false, reloadOnChange: true));
            var client = new ReadHistoryClient(cluster.Invoker);
            var check = new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "feed" };
            await client.CheckAsync(check, As(RankerA)).ResponseAsync.DefaultTimeout();
            await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(check, As(RankerA)).ResponseAsync).DefaultTimeout();

            // The key's own burst arrives with the keys' file; the key's next calls get a bucket at that rate.
            var temporary = file + ".tmp";
            File.WriteAllText(temporary, "{\"ReadHistory\":{\"Proxy\":{\"Tenants\":{\"feed\":{\"Keys\":{\"ranker-a\":{\"Burst\":3}}}}}}}");
            File.Move(temporary, file, overwrite: true);

            await Poll.UntilAsync(
                async () =>
                {
                    try
                    {
                        await client.CheckAsync(check, As(RankerA)).ResponseAsync;
                        return true;
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
                    {
                        return false;
                    }
                },
                "the key's own rate to be in force");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_keys_own_rate_on_a_tenant_replaces_the_tenants_for_that_key()
    {
        await using var cluster = await StartAsync(forwardBytes: true, new()
        {
            ["ReadHistory:Proxy:Tenants:feed:CallsPerSecond"] = "0.05",
            ["ReadHistory:Proxy:Tenants:feed:Burst"] = "2",
            ["ReadHistory:Proxy:Tenants:feed:Keys:ranker-b:Burst"] = "1",
        });
        var client = new ReadHistoryClient(cluster.Invoker);
        var check = new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "feed" };

        await client.CheckAsync(check, As(RankerB)).ResponseAsync.DefaultTimeout();
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(check, As(RankerB)).ResponseAsync).DefaultTimeout();
        await client.CheckAsync(check, As(RankerA)).ResponseAsync.DefaultTimeout();
        await client.CheckAsync(check, As(RankerA)).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.DoesNotContain("ranker-a", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public async Task A_batch_check_is_charged_to_each_tenant_its_entries_name_and_refused_for_that_tenant_only(bool forwardBytes, bool withKey)
    {
        var limits = new Dictionary<string, string?>
        {
            ["ReadHistory:Proxy:Tenants:push:CallsPerSecond"] = "0.05",
            ["ReadHistory:Proxy:Tenants:push:Burst"] = "1",
        };
        await using var cluster = withKey ? await StartAsync(forwardBytes, limits) : await StartAnonymousAsync(forwardBytes, limits);
        var client = new ReadHistoryClient(cluster.Invoker);
        var options = withKey ? As(RankerA) : ProxyCluster.Within(20_000);
        var batch = new BatchCheckRequest
        {
            Tenant = "feed",
            Requests = { new CheckRequest { UserId = 7, ContentIds = { 1 } }, new CheckRequest { UserId = 8, ContentIds = { 1 }, Tenant = "push" } },
        };

        var first = await client.BatchCheckAsync(batch, options).ResponseAsync.DefaultTimeout();
        var second = await client.BatchCheckAsync(batch, options).ResponseAsync.DefaultTimeout();
        var push = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(new CheckRequest { UserId = 8, ContentIds = { 1 }, Tenant = "push" }, options).ResponseAsync).DefaultTimeout();

        Assert.All(first.Results, static r => Assert.Equal(0, r.StatusCode));
        Assert.Equal(0, second.Results[0].StatusCode);
        Assert.Equal((int)StatusCode.ResourceExhausted, second.Results[1].StatusCode);
        Assert.Contains("tenant 'push'", second.Results[1].StatusMessage, StringComparison.Ordinal);
        Assert.Contains("retry after", second.Results[1].StatusMessage, StringComparison.Ordinal);
        Assert.Equal(StatusCode.ResourceExhausted, push.StatusCode);
    }

    private Task<ProxyCluster> StartAsync(bool forwardBytes, Dictionary<string, string?> limits)
    {
        var settings = new Dictionary<string, string?>(limits)
        {
            ["ReadHistory:Auth:Mode"] = "ApiKeys",
        };
        foreach (var (id, key) in new[] { ("ranker-a", RankerA), ("ranker-b", RankerB) })
        {
            settings[$"ReadHistory:Auth:Keys:{id}:Sha256"] = ApiKeyRing.HashOf(key);
            settings[$"ReadHistory:Auth:Keys:{id}:Tenants:0"] = "feed";
            settings[$"ReadHistory:Auth:Keys:{id}:Tenants:1"] = "push";
            settings[$"ReadHistory:Auth:Keys:{id}:Scopes:0"] = "read";
        }

        return StartAnonymousAsync(forwardBytes, settings);
    }

    private Task<ProxyCluster> StartAnonymousAsync(bool forwardBytes, Dictionary<string, string?> settings) =>
        ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("feed", ["feed"], 1, 1), ("push", ["push"], 1, 1)], new Dictionary<string, string?>(settings)
        {
            ["ReadHistory:Proxy:ForwardBytes"] = forwardBytes ? "true" : "false",
        });

    private static CallOptions As(string key) => new(new Metadata { { "authorization", "Bearer " + key } }, DateTime.UtcNow.AddSeconds(20));
}
