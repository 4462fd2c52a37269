using ReadHistory.Api.V1;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Storage;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace ReadHistory.Server.IntegrationTests.Coherence;

/// <summary>
/// Two replicas of one slot and a CDC host through the failures coherence must survive — Redis restarted (keeping or
/// losing its data), a replica restarted in the middle of a write burst — judged against an exact model of the
/// acknowledged writes: after the cluster settles, every acknowledged id is read through both replicas.
/// </summary>
[Collection(CdcServersFixture.Collection)]
public sealed class CoherenceRecoveryTests(CdcServersFixture servers, ITestOutputHelper output)
{
    private const int Writers = 4;
    private const int NegativesPerUser = 200;
    private const ulong FenceUserA = 9_000_001;
    private const ulong FenceUserB = 9_000_002;
    private const double TargetFalsePositiveRate = 0.01;
    private static readonly ulong[] Users = [.. Enumerable.Range(1, 24).Select(static u => (ulong)(1000 + u))];

    /// <summary>How Redis fails in <see cref="After_a_redis_restart_writes_through_one_replica_are_seen_by_the_other_and_none_is_missing"/>.</summary>
    public enum RedisFailure
    {
        /// <summary>Killed and started again with its append-only file: the stream, epoch and checkpoint survive.</summary>
        RestartKeepingData,

        /// <summary>Killed and started empty: a new epoch; the running publisher republishes from its own last position.</summary>
        RestartLosingData,

        /// <summary>
        /// The publisher stops, writes go on, Redis comes back empty and a new publisher starts from the binlog's end: the
        /// writes in between never reach the stream, so only the replicas dropping their filters on the gap saves them.
        /// </summary>
        RestartLosingDataAndPublisher,
    }

    [Theory]
    [InlineData(RedisFailure.RestartKeepingData)]
    [InlineData(RedisFailure.RestartLosingData)]
    [InlineData(RedisFailure.RestartLosingDataAndPublisher)]
    public async Task After_a_redis_restart_writes_through_one_replica_are_seen_by_the_other_and_none_is_missing(RedisFailure failure)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await CoherenceCluster.StartAsync(servers.MariaDb.ConnectionString(), redis.Endpoint);
        var work = new CoherenceWorkload(Users, seed: 3 + (int)failure);
        await work.WarmAsync(cluster.A);
        await work.WarmAsync(cluster.B);
        var gapsBefore = (await cluster.A.CounterAsync(GapsMetric), await cluster.B.CounterAsync(GapsMetric));

        // Writes through both replicas keep going while Redis goes away and comes back.
        using var stop = new CancellationTokenSource();
        var writing = work.WriteAsync([() => cluster.A, () => cluster.B], Writers, maxWrites: 20_000, stop.Token);
        await work.UntilWritesAsync(150);
        if (failure == RedisFailure.RestartLosingDataAndPublisher)
        {
            await cluster.StopCdcAsync().DefaultTimeout();
            await work.UntilWritesAsync(work.Model.Writes + 150);
        }

        await redis.RestartAsync(wipeData: failure != RedisFailure.RestartKeepingData).DefaultTimeout();
        var atRestart = work.Model.Writes;
        if (failure == RedisFailure.RestartLosingDataAndPublisher)
        {
            await cluster.StartCdcAsync().DefaultTimeout();
        }

        await work.UntilWritesAsync(atRestart + 300);
        await stop.CancelAsync();
        await writing.DefaultTimeout();

        if (failure != RedisFailure.RestartKeepingData)
        {
            // Both replicas must notice that the stream they tailed is gone, and drop what they could no longer prove.
            await Poll.UntilAsync(async () => await cluster.A.CounterAsync(GapsMetric) > gapsBefore.Item1 && await cluster.B.CounterAsync(GapsMetric) > gapsBefore.Item2, "both replicas count the gap");
        }

        var gapsAfter = (await cluster.A.CounterAsync(GapsMetric), await cluster.B.CounterAsync(GapsMetric));
        await AssertConvergedAsync(cluster, work);
        output.WriteLine($"{failure} after {atRestart} writes; gaps seen by A {gapsAfter.Item1 - gapsBefore.Item1}, by B {gapsAfter.Item2 - gapsBefore.Item2}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_replica_restarted_in_the_middle_of_a_write_burst_converges_with_its_peer(bool warmFromPeer)
    {
        // Users with tens of thousands of rows take long enough to rebuild that writes committed during their scan
        // arrive through the stream before the filter is installed: the rebuild's buffer has to catch them.
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await CoherenceCluster.StartAsync(servers.MariaDb.ConnectionString(), redis.Endpoint, PreloadHeavyUsersAsync);
        var work = new CoherenceWorkload(Users, seed: warmFromPeer ? 13 : 11, hotUsers: HeavyUsers);
        await work.WarmAsync(cluster.A);
        await work.WarmAsync(cluster.B);

        // Writes go through A only; meanwhile checks keep B rebuilding users, before the stop and after the start.
        using var stop = new CancellationTokenSource();
        CoherenceCluster.Replica? b = cluster.B;
        var writing = work.WriteAsync([() => cluster.A], Writers, maxWrites: 20_000, stop.Token);
        var checking = work.CheckAsync(() => Volatile.Read(ref b), stop.Token);
        await work.UntilWritesAsync(150);
        Volatile.Write(ref b, null);
        await cluster.StopBAsync().DefaultTimeout();
        var stoppedAt = work.Model.Writes;
        await work.UntilWritesAsync(stoppedAt + 150);
        await cluster.StartBAsync(warmFromPeer).DefaultTimeout();
        // Before anything else asks B: a cold B has nothing in memory, a warm one holds what A held (every user). A warm
        // B answers from memory marked stale until it has applied its first stamp from the stream, which on a loaded
        // machine can come after this first check: both are answers from memory.
        var firstAnswer = (await cluster.B.CheckAsync(Users[0], [1])).Source;
        Volatile.Write(ref b, cluster.B);
        if (warmFromPeer)
        {
            Assert.Contains(firstAnswer, (AnswerSource[])[AnswerSource.Memory, AnswerSource.MemoryStale]);
        }
        else
        {
            Assert.Equal(AnswerSource.Database, firstAnswer);
        }

        var startedAt = work.Model.Writes;
        await work.UntilWritesAsync(startedAt + 300);
        await stop.CancelAsync();
        await Task.WhenAll(writing, checking).DefaultTimeout();

        await AssertConvergedAsync(cluster, work);
        output.WriteLine($"B stopped after {stoppedAt} writes, started again ({(warmFromPeer ? "warm from A" : "cold")}) after {startedAt}");
    }

    private const string GapsMetric = "readhistory_coherence_gaps_total";
    private const int HeavyRows = 30_000;
    private static readonly ulong[] HeavyUsers = Users[..4];

    /// <summary>Rows of the heavy users, straight into the table (ids above every id the workload writes).</summary>
    private async Task PreloadHeavyUsersAsync(ShardNames names)
    {
        foreach (var user in HeavyUsers)
        {
            for (var from = 0; from < HeavyRows; from += 10_000)
            {
                var values = string.Join(",", Enumerable.Range(from, 10_000).Select(i => FormattableString.Invariant($"({user},0,{(1UL << 40) + (ulong)i},1700000000)")));
                await servers.MariaDb.SqlAsync($"INSERT INTO {names.QualifiedTable(0)} (user_id, content_type, content_id, read_at) VALUES {values}").DefaultTimeout();
            }
        }
    }

    /// <summary>Fences both replicas, then checks every acknowledged id through each: no false negative; FPR near its target.</summary>
    private async Task AssertConvergedAsync(CoherenceCluster cluster, CoherenceWorkload work)
    {
        Assert.True(work.FailedWrites == 0, $"{work.FailedWrites} writes failed: {string.Join("; ", work.Errors.Take(3))}");
        await work.FenceAsync(cluster.A, cluster.B, FenceUserB);
        await work.FenceAsync(cluster.B, cluster.A, FenceUserA);
        var throughA = await work.VerifyAsync(cluster.A, NegativesPerUser);
        var throughB = await work.VerifyAsync(cluster.B, NegativesPerUser);
        output.WriteLine($"{work.Model.Writes} acknowledged writes; through A: {throughA}; through B: {throughB}");
        Assert.True(throughA.FalseNegatives.Count == 0, "false negatives through A: " + string.Join(", ", throughA.FalseNegatives.Take(10)));
        Assert.True(throughB.FalseNegatives.Count == 0, "false negatives through B: " + string.Join(", ", throughB.FalseNegatives.Take(10)));
        Assert.Equal(work.Model.Ids, throughA.Ids);
        Assert.Equal(work.Model.Ids, throughB.Ids);

        // The filters hold a few dozen ids each, far below their sizing, so the rate sits well under the target; a
        // filter that answered "read" for much more than twice the target would be broken, not unlucky.
        Assert.InRange(throughA.FalsePositiveRate, 0, 2 * TargetFalsePositiveRate);
        Assert.InRange(throughB.FalsePositiveRate, 0, 2 * TargetFalsePositiveRate);
    }
}
