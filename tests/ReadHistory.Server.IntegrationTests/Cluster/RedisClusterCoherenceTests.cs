using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace ReadHistory.Server.IntegrationTests.Cluster;

/// <summary>
/// The change streams on a real Redis Cluster (three masters, three replicas, each test its own): rows committed to
/// MariaDB reach the cache nodes of slots whose keys live on different masters; a hash slot moved while rows keep
/// coming; a master killed after its replica fell behind. Judged against the rows committed: after the cluster
/// settles, every committed id reads as read on its node, answered from memory.
/// </summary>
[Collection(CdcServersFixture.Collection)]
public sealed class RedisClusterCoherenceTests(CdcServersFixture servers, ITestOutputHelper output)
{
    [Fact]
    public async Task Rows_committed_to_the_database_reach_the_nodes_of_slots_on_different_masters()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var rig = await ClusterCoherenceRig.StartAsync(servers.MariaDb, cluster);
        var usersA = ClusterCoherenceRig.UsersOf(rig.SlotA, 3);
        var usersB = ClusterCoherenceRig.UsersOf(rig.SlotB, 3);
        Assert.NotEqual((await cluster.MasterOfAsync(await rig.HashSlotOfAsync(rig.SlotA))).Port, (await cluster.MasterOfAsync(await rig.HashSlotOfAsync(rig.SlotB))).Port);
        await ClusterCoherenceRig.WarmAsync(rig.A, usersA);
        await ClusterCoherenceRig.WarmAsync(rig.B, usersB);

        foreach (var user in usersA.Concat(usersB))
        {
            await rig.InsertAsync(user, rig.NextId(), rig.NextId());
        }

        await rig.FenceAsync(rig.A, usersA[0]);
        await rig.FenceAsync(rig.B, usersB[0]);
        var missesA = await rig.FalseNegativesAsync(rig.A, usersA);
        var missesB = await rig.FalseNegativesAsync(rig.B, usersB);

        Assert.Empty(missesA);
        Assert.Empty(missesB);
        // Answered from memory without a gap: the rows came through the streams, not from a rebuild.
        Assert.Equal(0, await rig.A.CounterAsync(ClusterCoherenceRig.GapsMetric));
        Assert.Equal(0, await rig.B.CounterAsync(ClusterCoherenceRig.GapsMetric));
    }

    [Fact]
    public async Task A_hash_slot_moved_to_another_master_while_rows_keep_coming_loses_nothing_and_the_stream_goes_on()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var rig = await ClusterCoherenceRig.StartAsync(servers.MariaDb, cluster);
        var users = ClusterCoherenceRig.UsersOf(rig.SlotA, 6);
        await ClusterCoherenceRig.WarmAsync(rig.A, users);
        var hashSlot = await rig.HashSlotOfAsync(rig.SlotA);
        var source = await cluster.MasterOfAsync(hashSlot);
        var target = await cluster.MasterOfAsync(await rig.HashSlotOfAsync(rig.SlotB));

        using var stop = new CancellationTokenSource();
        var writing = rig.WriteAsync(users[1..], maxWrites: 5_000, stop.Token);
        await rig.UntilWritesAsync(100);
        var before = rig.Model.Writes;
        await cluster.MoveSlotAsync(hashSlot, target).DefaultTimeout();
        var moved = rig.Model.Writes;
        await rig.UntilWritesAsync(moved + 100);
        await stop.CancelAsync();
        await writing.DefaultTimeout();

        Assert.Equal(target.Port, (await cluster.MasterOfAsync(hashSlot)).Port);
        await rig.FenceAsync(rig.A, users[0]);
        var misses = await rig.FalseNegativesAsync(rig.A, users);
        output.WriteLine($"hash slot {hashSlot} moved from :{source.Port} to :{target.Port} between insert {before} and {moved}; {rig.Model.Writes} inserts, {rig.Model.Ids} ids");
        Assert.True(misses.Count == 0, "false negatives: " + string.Join(", ", misses.Take(10)));
        // A move loses nothing, so the node never had to drop what it held.
        Assert.Equal(0, await rig.A.CounterAsync(ClusterCoherenceRig.GapsMetric));
        Assert.Equal(1, await rig.CdcMetrics.CounterAsync(ClusterCoherenceRig.EpochsMetric));
    }

    /// <summary>
    /// A master dies (SIGKILL) and its replica takes over, with or without the last writes (<paramref name="replicaFellBehind"/>),
    /// and with or without the publisher's own keys on it (<paramref name="withPublisherKeys"/>). A lost tail is noticed
    /// by the publisher when its checkpoint survived elsewhere (the slot holds fewer publishes than it counted: new epoch),
    /// and by the node's reader whatever happened (the entry at its cursor is gone): either way the node reports a gap and
    /// rebuilds from the database.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task A_master_killed_with_sigkill_and_its_replica_promoted_loses_no_committed_row(bool replicaFellBehind, bool withPublisherKeys)
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var rig = await ClusterCoherenceRig.StartAsync(servers.MariaDb, cluster, withPublisherKeys);
        var users = ClusterCoherenceRig.UsersOf(rig.SlotA, 6);
        await ClusterCoherenceRig.WarmAsync(rig.A, users);
        var hashSlot = await rig.HashSlotOfAsync(rig.SlotA);
        var master = await cluster.MasterOfAsync(hashSlot);
        var replica = await cluster.ReplicaOfAsync(master);
        var epochsBefore = await rig.CdcMetrics.CounterAsync(ClusterCoherenceRig.EpochsMetric);

        using var stop = new CancellationTokenSource();
        var writing = rig.WriteAsync(users[1..], maxWrites: 20_000, stop.Token);
        await rig.UntilWritesAsync(50);
        if (replicaFellBehind)
        {
            // The replica freezes and the master drops its link (a frozen process's socket would still buffer what the
            // master sends): what the node applies from now on exists on the master only, which then dies.
            await ChildProcess.SignalAsync(replica.ProcessId, "STOP");
            try
            {
                await master.CliAsync("CLIENT", "KILL", "TYPE", "replica");
                await rig.FenceAsync(rig.A, users[0]);
            }
            finally
            {
                await master.KillAsync();
                await ChildProcess.SignalAsync(replica.ProcessId, "CONT");
            }
        }
        else
        {
            await master.KillAsync();
        }

        var killedAt = rig.Model.Writes;
        await Poll.UntilAsync(async () => (await cluster.MasterOfAsync(hashSlot)).Port == replica.Port, "the replica to be promoted", TimeSpan.FromSeconds(60));
        await cluster.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        await rig.UntilWritesAsync(killedAt + 100);
        await stop.CancelAsync();
        await writing.DefaultTimeout();

        // Recovery within a bound: rows committed now reach the node through its stream again (each fence within a minute).
        await rig.StreamFenceAsync(rig.A, users[0]);
        var misses = await rig.FalseNegativesAsync(rig.A, users);
        var epochs = await rig.CdcMetrics.CounterAsync(ClusterCoherenceRig.EpochsMetric) - epochsBefore;
        var gaps = await rig.A.CounterAsync(ClusterCoherenceRig.GapsMetric);
        output.WriteLine($"master :{master.Port} of hash slot {hashSlot} killed after {killedAt} inserts, replica :{replica.Port} promoted; {rig.Model.Writes} inserts, {rig.Model.Ids} ids; {epochs} new epochs, {gaps} gaps on the node");
        Assert.True(misses.Count == 0, "false negatives: " + string.Join(", ", misses.Take(10)));
        if (replicaFellBehind)
        {
            Assert.True(gaps > 0, "the node reported no gap");
            Assert.True(withPublisherKeys || epochs > 0, "the publisher started no new epoch for the lost tail");
        }

        Assert.Equal(AnswerSource.Memory, (await rig.A.CheckAsync(users[0], [1])).Source);
    }
}
