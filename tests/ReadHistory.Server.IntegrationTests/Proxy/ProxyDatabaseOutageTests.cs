using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// A database outage seen through the proxy, on a MariaDB of its own (the test stops it): the node still answers, so
/// its failed writes open no breaker and move no session to a replica that has not seen the session's writes.
/// </summary>
public sealed class ProxyDatabaseOutageTests : IAsyncLifetime
{
    private const ulong User = 41;
    private const string Session = "reader-41";
    private MariaDbServer? _server;

    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Writes_failed_by_the_database_open_no_breaker_and_the_session_stays_on_its_replica()
    {
        await using var cluster = await ProxyCluster.StartAsync(_server!.ConnectionString(), [("default", [""], 1, 2)]);
        var client = new ReadHistoryClient(cluster.Invoker);
        await Mark(client, 10);
        await WaitFromMemoryAsync(client);
        var home = await ProxyCluster.LookupsAsync(cluster.Node("default", 0, 0)) > 0 ? 0 : 1;
        var other = cluster.Node("default", 0, 1 - home);
        Assert.Equal(0UL, await ProxyCluster.LookupsAsync(other));

        await _server.StopAsync().DefaultTimeout();
        // Twice the breaker's minimum throughput, all failed: enough to open it if these counted against the replica.
        for (var i = 0; i < 2 * ShippedDefaults.Proxy().MinimumThroughput; i++)
        {
            var failure = await Assert.ThrowsAsync<RpcException>(() => Mark(client, 100 + (ulong)i));
            Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
            Assert.Equal(StorageStatus.DatabaseCause, failure.Trailers.GetValue(StorageStatus.CauseTrailer));
        }

        var metrics = await ProxyMetricsAsync(cluster);
        Assert.Equal(2, metrics.Count(l => l.StartsWith("readhistory_proxy_replica_healthy{", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal)));
        Assert.Contains("readhistory_proxy_failovers_total{pool=\"default\"} 0", metrics);

        // The session still reads its earlier write from its own replica's memory while the database is down.
        var during = await Check(client, 10);
        Assert.Equal(AnswerSource.Memory, during.Source);
        Assert.Equal(new byte[] { 0b1 }, during.ReadBitmap.ToByteArray());

        await _server.RestartAsync().DefaultTimeout();
        await MarkOnceTheDatabaseIsBackAsync(client, 11);
        var after = await Check(client, 10, 11);
        Assert.Equal(AnswerSource.Memory, after.Source);
        Assert.Equal(new byte[] { 0b11 }, after.ReadBitmap.ToByteArray());
        Assert.Equal(0UL, await ProxyCluster.LookupsAsync(other));
    }

    private static Task<MarkReadResponse> Mark(ReadHistoryClient client, ulong id) =>
        client.MarkReadAsync(new MarkReadRequest { UserId = User, SessionId = Session, Items = { new ReadItem { ContentId = id } } }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();

    private static Task<CheckResponse> Check(ReadHistoryClient client, params ulong[] ids) =>
        client.CheckAsync(new CheckRequest { UserId = User, SessionId = Session, ContentIds = { ids } }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();

    // The user's rebuild runs in the background: up to ~20 s on a loaded machine.
    private static async Task WaitFromMemoryAsync(ReadHistoryClient client)
    {
        for (var attempt = 0; attempt < 800; attempt++)
        {
            if ((await Check(client, 10)).Source == AnswerSource.Memory)
            {
                return;
            }

            await Task.Delay(25);
        }

        Assert.Fail("the user was never answered from memory");
    }

    // The nodes' pooled connections died with the server: the first writes after the restart may still fail.
    private static async Task MarkOnceTheDatabaseIsBackAsync(ReadHistoryClient client, ulong id)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await Mark(client, id);
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<string[]> ProxyMetricsAsync(ProxyCluster cluster)
    {
        using var http = new HttpClient();
        return (await http.GetStringAsync(new Uri(cluster.Proxy.Http, "/metrics")).DefaultTimeout()).Split('\n');
    }
}
