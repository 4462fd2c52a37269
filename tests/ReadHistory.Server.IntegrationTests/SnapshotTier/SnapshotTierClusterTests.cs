using ReadHistory.Server.Cache;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.SnapshotTier;

/// <summary>The second tier on a Redis Cluster (three masters, three replicas): snapshots spread by user, the stream on its slot's tag.</summary>
public sealed class SnapshotTierClusterTests
{
    [Fact]
    public async Task Write_back_and_load_work_on_a_Redis_Cluster_with_snapshots_spread_over_its_masters()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var rig = await SnapshotTierRig.CreateAsync(cluster.Configuration);
        var users = Enumerable.Range(1, 6).Select(static u => (ulong)u).ToArray();
        foreach (var user in users)
        {
            rig.Seed(user, 500);
        }

        var a = await rig.NodeAsync(configure: static o => o.WriteBackMinRows = 100);
        foreach (var user in users)
        {
            await SnapshotTierRig.WarmAsync(a, user);
        }

        await Poll.UntilAsync(() => a.Tier.Metrics.Written == users.Length && a.Tier.QueuedWriteBacks == 0, "every write-back");
        await rig.CommitAsync(users[0], 1, 5_000_001);
        var b = await rig.NodeAsync();
        await SnapshotTierRig.TailAsync(b);

        foreach (var user in users)
        {
            Assert.Contains(CheckSource.Snapshot, await rig.AssertNoFalseNegativesAsync(b, user));
        }

        var masters = new HashSet<int>();
        foreach (var user in users)
        {
            masters.Add((await cluster.MasterOfAsync(await cluster.KeySlotAsync(a.Store.Key(user)))).Port);
        }

        Assert.True(masters.Count > 1, "the snapshots all landed on one master");
    }
}
