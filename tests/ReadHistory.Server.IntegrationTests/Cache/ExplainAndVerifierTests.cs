using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Server.IntegrationTests.Cache;

/// <summary>Explain and the false-positive verifier on a real cache node over MariaDB.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ExplainAndVerifierTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task Explain_names_the_filter_answer_and_its_layer_the_database_answer_and_the_users_figures()
    {
        await using var host = await TestHost.StartReadyAsync(TestHost.Settings("cache", mariaDb.Server.ConnectionString(), Prefix()));
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var node = new CacheNodeClient(channel);
        await node.MarkReadAsync(new CacheMarkReadRequest { Request = new MarkReadRequest { UserId = 21, ContentType = 4, Items = { new ReadItem { ContentId = 100 }, new ReadItem { ContentId = 101 } } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        var cold = await ExplainAsync(node, 21, 4, 100);
        Assert.False(cold.Held);
        Assert.False(cold.FilterRead);
        Assert.Equal(-1, cold.AnsweringLayer);
        Assert.True(cold.DatabaseRead);
        Assert.Equal(2UL, cold.Rows);

        await Poll.UntilAsync(
            () => node.CheckAsync(new CacheCheckRequest { Request = new CheckRequest { UserId = 21, ContentType = 4, ContentIds = { 100 } } }, TestHost.Deadline()).ResponseAsync,
            static r => r.Source == AnswerSource.Memory,
            "the user's filter to be installed");

        var read = await ExplainAsync(node, 21, 4, 101);
        Assert.Equal("default", read.Pool);
        Assert.True(read.Held);
        Assert.True(read.FilterRead);
        Assert.Equal(0, read.AnsweringLayer);
        Assert.True(read.DatabaseRead);
        Assert.Equal(1u, read.Layers);
        Assert.Equal(2UL, read.Items);
        Assert.True(read.BitBytes > 0 && read.MemoryBytes >= read.BitBytes);

        var unread = await ExplainAsync(node, 21, 4, 999_999);
        Assert.True(unread.Held);
        Assert.False(unread.DatabaseRead);
        // A false positive is possible (the filter's answer is then "read" with the database's "unread"), never the reverse.
        Assert.Equal(unread.FilterRead, unread.AnsweringLayer >= 0);

        var otherType = await ExplainAsync(node, 21, 5, 100);
        Assert.False(otherType.DatabaseRead);

        var badUser = await Assert.ThrowsAsync<RpcException>(() => ExplainAsync(node, 0, 0, 1)).DefaultTimeout();
        Assert.Equal(StatusCode.InvalidArgument, badUser.StatusCode);
        Assert.Contains("user_id", badUser.Status.Detail, StringComparison.Ordinal);
        var badType = await Assert.ThrowsAsync<RpcException>(() => ExplainAsync(node, 1, 70_000, 1)).DefaultTimeout();
        Assert.Contains("content_type", badType.Status.Detail, StringComparison.Ordinal);
        var otherPool = await Assert.ThrowsAsync<RpcException>(async () => await node.ExplainAsync(new ExplainRequest { Pool = "push", UserId = 1, ContentId = 1 }, TestHost.Deadline())).DefaultTimeout();
        Assert.Equal(StatusCode.NotFound, otherPool.StatusCode);
    }

    [Fact]
    public async Task The_measured_false_positive_rate_matches_the_rate_the_client_sees_for_never_written_ids()
    {
        var settings = TestHost.Settings("cache", mariaDb.Server.ConnectionString(), Prefix());
        // A loose filter, so a few thousand never-written ids show its rate; every Check sampled, 64 ids each.
        settings["ReadHistory:Cache:TargetFalsePositiveRate"] = "0.2";
        settings["ReadHistory:Cache:VerifierSampleFraction"] = "1";
        settings["ReadHistory:Cache:VerifierIdsPerSample"] = "64";
        settings["ReadHistory:Cache:VerifierQueriesPerSecond"] = "10000";
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var node = new CacheNodeClient(channel);
        var mark = new MarkReadRequest { UserId = 33 };
        for (ulong id = 1; id <= 2_000; id++)
        {
            mark.Items.Add(new ReadItem { ContentId = id });
        }

        await node.MarkReadAsync(new CacheMarkReadRequest { Request = mark }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        var never = new CheckRequest { UserId = 33 };
        for (ulong id = 0; id < 1_000; id++)
        {
            never.ContentIds.Add(5_000_000 + (id * 7919));
        }

        await Poll.UntilAsync(
            () => node.CheckAsync(new CacheCheckRequest { Request = never }, TestHost.Deadline()).ResponseAsync,
            static r => r.Source == AnswerSource.Memory,
            "the user's filter to be installed");
        long calledRead = 0;
        long asked = 0;
        for (var round = 0; round < 40; round++)
        {
            var answer = await node.CheckAsync(new CacheCheckRequest { Request = never }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            Assert.Equal(AnswerSource.Memory, answer.Source);
            calledRead += never.ContentIds.Count - answer.UnreadCount;
            asked += never.ContentIds.Count;
        }

        var truth = calledRead / (double)asked;
        var stats = await Poll.UntilAsync(
            () => node.StatsAsync(new StatsRequest(), TestHost.Deadline()).ResponseAsync,
            static s => s.Pools[0].FalsePositiveSamples >= 40 * 64,
            "the verifier to measure the sampled Checks");
        var pool = stats.Pools[0];
        var sigma = Math.Sqrt(truth * (1 - truth) / pool.FalsePositiveSamples);
        Assert.InRange(truth, 0.01, 0.6);
        Assert.InRange(pool.FalsePositiveRateMeasured, truth - (6 * sigma) - 0.01, truth + (6 * sigma) + 0.01);

        var metrics = await host.MetricsAsync();
        Assert.Contains("readhistory_cache_false_positive_rate_measured{pool=\"default\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("readhistory_cache_fpr_sampled_ids_total{pool=\"default\",outcome=\"false_positive\"}", metrics, StringComparison.Ordinal);

        var explained = await ExplainAsync(node, 33, 0, 5_000_000);
        Assert.True(explained.PoolFalsePositiveSamples >= pool.FalsePositiveSamples);
        Assert.True(explained.PoolFalsePositiveRateMeasured > 0, explained.PoolFalsePositiveRateMeasured.ToString(CultureInfo.InvariantCulture));
    }

    private static async Task<ExplainResponse> ExplainAsync(CacheNodeClient node, ulong user, uint type, ulong id) =>
        await node.ExplainAsync(new ExplainRequest { UserId = user, ContentType = type, ContentId = id }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

    private static string Prefix() => "explain" + Guid.NewGuid().ToString("N")[..8];
}
