using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>/metrics of real hosts: what promtool thinks of it, and one registry per host.</summary>
[Collection(CdcServersFixture.Collection)]
public sealed class MetricsEndpointTests(CdcServersFixture servers)
{
    [Fact]
    public async Task The_metrics_endpoint_serves_text_format_0_0_4_that_promtool_accepts_without_lint()
    {
        var prefix = "met" + Guid.NewGuid().ToString("N")[..8];
        await using var host = await TestHost.StartReadyAsync(TestHost.Settings("all", servers.MariaDb.ConnectionString(), prefix, servers.Redis.Endpoint));
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        var client = new ReadHistory.Api.V1.ReadHistory.ReadHistoryClient(channel);
        await client.MarkReadAsync(new MarkReadRequest { UserId = 5, Items = { new ReadItem { ContentId = 1 } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        await client.CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 1, 2 } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        using var http = new HttpClient { Timeout = TestTimeout.Default };
        using var response = await http.GetAsync(new Uri(host.Http, "/metrics")).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();

        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        // Recorded before the first scrape, and kept.
        Assert.Contains("readhistory_rpc_requests_total{code=\"OK\",method=\"MarkRead\",role=\"all\"} 1\n", body, StringComparison.Ordinal);
        // Each histogram keeps the buckets chosen for it.
        Assert.Contains("readhistory_rpc_request_duration_seconds_bucket{method=\"Check\",role=\"all\",le=\"0.0001\"} ", body, StringComparison.Ordinal);
        Assert.Contains("readhistory_coherence_lag_seconds_bucket{pool=\"default\",le=\"30\"} ", body, StringComparison.Ordinal);
        Assert.Contains("readhistory_storage_commit_duration_seconds_bucket{le=\"0.0005\"} ", body, StringComparison.Ordinal);
        Assert.Contains("# TYPE readhistory_cdc_rows_published_total counter\n", body, StringComparison.Ordinal);
        Assert.Contains("# TYPE readhistory_cache_users gauge\n", body, StringComparison.Ordinal);

        // promtool exits non-zero on a parse error or a lint problem; a missing promtool fails the test too.
        await ChildProcess.RunAsync("promtool", ["check", "metrics"], standardInput: body, timeout: TestTimeout.Default);
    }

    [Fact]
    public async Task Hosts_in_one_process_do_not_share_series()
    {
        var prefix = "met" + Guid.NewGuid().ToString("N")[..8];
        var cacheSettings = TestHost.Settings("cache", servers.MariaDb.ConnectionString(), prefix);
        cacheSettings["ReadHistory:Cache:Pool"] = "only-" + prefix;
        await using var cache = await TestHost.StartReadyAsync(cacheSettings);
        await using var proxy = await TestHost.StartReadyAsync(TestHost.Settings("proxy", servers.MariaDb.ConnectionString(), prefix));

        using var http = new HttpClient { Timeout = TestTimeout.Default };
        var ofCache = await http.GetStringAsync(new Uri(cache.Http, "/metrics")).DefaultTimeout();
        var ofProxy = await http.GetStringAsync(new Uri(proxy.Http, "/metrics")).DefaultTimeout();

        Assert.Contains("readhistory_cache_users{pool=\"only-" + prefix + "\"} 0", ofCache, StringComparison.Ordinal);
        Assert.DoesNotContain("only-" + prefix, ofProxy, StringComparison.Ordinal);
    }
}
