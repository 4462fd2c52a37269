using ReadHistory.Server.Cache;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.SnapshotTier;

/// <summary>
/// The second tier's refresh against a real Redis and an exact model of acknowledged reads: filters still held are
/// written back (periodically and at a graceful shutdown), so a new replica whose peer is gone answers from T2, and
/// every read acknowledged after a write-back (or in the stream but not yet applied by the writer) is caught up.
/// </summary>
[Collection(CdcServersFixture.Collection)]
public sealed class SnapshotTierRefreshTests(CdcServersFixture servers)
{
    private const ulong User = 42;

    [Fact]
    public async Task A_refresh_writes_back_a_held_filter_and_a_new_replica_catches_up_every_read_after_its_stamp()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(configure: Refreshing);
        await SnapshotTierRig.WarmAsync(a, User);
        Assert.False(await rig.StoredAsync(User), "held, never evicted: nothing in T2 yet");

        await rig.CommitAsync(User, 1, 7_000_001);             // in the stream, not yet applied by a
        var pass = await a.Cache.RefreshSnapshotsAsync(long.MaxValue, shutdown: false, CancellationToken.None).DefaultTimeout();
        await rig.MarkReadAsync(a, User, 2, 7_000_002);        // through a after its write-back
        await rig.CommitAsync(User, 1, 7_000_003);             // through another replica after it
        await rig.StopAsync(a);                                // a is gone: no warm start for b
        var b = await rig.NodeAsync();
        var (scans, pointQueries) = (rig.Db.Scans, rig.Db.PointQueries);

        var sources = await rig.AssertNoFalseNegativesAsync(b, User);

        Assert.Equal(1, pass.Written);
        Assert.Equal(CheckSource.Snapshot, sources[0]);
        Assert.Equal((scans, pointQueries), (rig.Db.Scans, rig.Db.PointQueries));
    }

    [Fact]
    public async Task A_refresh_leaves_a_fresh_snapshot_alone_and_writes_one_older_than_RefreshMaxAge_again()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(configure: Refreshing);
        await SnapshotTierRig.WarmAsync(a, User);
        await a.Cache.RefreshSnapshotsAsync(long.MaxValue, shutdown: false, CancellationToken.None).DefaultTimeout();

        var again = await a.Cache.RefreshSnapshotsAsync(long.MaxValue, shutdown: false, CancellationToken.None).DefaultTimeout();
        await rig.AgeSnapshotAsync(a, User, a.Tier.Options.RefreshMaxAge + TimeSpan.FromMinutes(1));
        var aged = await a.Cache.RefreshSnapshotsAsync(long.MaxValue, shutdown: false, CancellationToken.None).DefaultTimeout();

        Assert.Equal((0, 1), (again.Written, again.Fresh));
        Assert.Equal((1, 0), (aged.Written, aged.Fresh));
    }

    [Fact]
    public async Task A_refresh_pass_stops_once_its_byte_budget_is_written()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        var a = await rig.NodeAsync(configure: Refreshing);
        for (var user = User; user < User + 3; user++)
        {
            rig.Seed(user, 1_000);
            await SnapshotTierRig.WarmAsync(a, user);
        }

        var pass = await a.Cache.RefreshSnapshotsAsync(byteBudget: 1, shutdown: false, CancellationToken.None).DefaultTimeout();

        Assert.Equal(1, pass.Written);
        Assert.Equal(1, a.Tier.Metrics.RefreshWritten);
    }

    [Fact]
    public async Task The_periodic_refresh_writes_held_filters_back_without_being_asked()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(configure: static o =>
        {
            Refreshing(o);
            o.RefreshInterval = TimeSpan.FromMilliseconds(20);
        });

        await SnapshotTierRig.WarmAsync(a, User);

        await Poll.UntilAsync(() => a.Tier.Metrics.RefreshWritten == 1, "the periodic refresh's write-back");
        Assert.True(await rig.StoredAsync(User));
    }

    [Fact]
    public async Task A_graceful_shutdown_writes_the_held_filters_back_and_a_new_replica_answers_from_them()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        var a = await rig.NodeAsync(configure: static o =>
        {
            Refreshing(o);
            o.ShutdownWriteBackTimeout = TestTimeout.Default;
        });
        for (var user = User; user < User + 3; user++)
        {
            rig.Seed(user, 1_000);
            await SnapshotTierRig.WarmAsync(a, user);
            await rig.MarkReadAsync(a, user, 2, 7_100_000 + user);
            await SnapshotTierRig.TailAsync(a);
        }

        await rig.StopAsync(a);
        await rig.CommitAsync(User, 1, 7_200_001);             // after the shutdown, through another replica
        var b = await rig.NodeAsync();

        for (var user = User; user < User + 3; user++)
        {
            var sources = await rig.AssertNoFalseNegativesAsync(b, user);
            Assert.Equal(CheckSource.Snapshot, sources[0]);
        }

        Assert.Equal(3, a.Tier.Metrics.RefreshWritten);
    }

    private static void Refreshing(SnapshotTierOptions options)
    {
        options.RefreshMaxAge = TimeSpan.FromMinutes(1);
        options.RefreshBytesPerSecond = 1L << 30;
        options.RefreshMaxUsers = 1_000;
    }
}
