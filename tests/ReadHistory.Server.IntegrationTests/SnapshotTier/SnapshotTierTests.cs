using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using StackExchange.Redis;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.SnapshotTier;

/// <summary>
/// The second tier against a real Redis and an exact model of acknowledged reads: write-back on eviction and after a
/// heavy rebuild, loads that answer SNAPSHOT without the database, and every way a snapshot can fall behind the truth
/// (later writes, a racing write, a new epoch, a trimmed stream, a forgotten user, two writers) never giving a false
/// negative.
/// </summary>
[Collection(CdcServersFixture.Collection)]
public sealed class SnapshotTierTests(CdcServersFixture servers)
{
    private const ulong User = 42;
    private const long SmallBudget = 48 << 10;

    [Fact]
    public async Task An_evicted_filter_is_written_back_and_a_miss_on_another_replica_answers_from_it_without_the_database()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        var b = await rig.NodeAsync();
        var (scans, pointQueries) = (rig.Db.Scans, rig.Db.PointQueries);

        var sources = await rig.AssertNoFalseNegativesAsync(b, User);

        Assert.Equal(CheckSource.Snapshot, sources[0]);
        Assert.Equal((scans, pointQueries), (rig.Db.Scans, rig.Db.PointQueries));
        Assert.Equal(1, b.Tier.Metrics.Hits);
    }

    [Fact]
    public async Task Reads_committed_between_the_write_back_and_the_load_are_caught_up_from_the_stream()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        var b = await rig.NodeAsync();

        // Committed through other replicas after the snapshot; b tails past them while it does not hold the user.
        await rig.CommitAsync(User, 1, 7_000_001, 7_000_002);
        await rig.CommitAsync(User, 2, 7_000_003);
        await SnapshotTierRig.TailAsync(b);

        var sources = await rig.AssertNoFalseNegativesAsync(b, User);

        Assert.Contains(CheckSource.Snapshot, sources);
        Assert.Equal(1, b.Tier.Metrics.Hits);
    }

    [Fact]
    public async Task Reads_acknowledged_while_the_snapshot_loads_are_in_the_installed_filter()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        GatedSnapshotStore? gated = null;
        var b = await rig.NodeAsync(wrap: store => gated = new GatedSnapshotStore(store));
        gated!.GetGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var miss = CacheTestKit.CheckAsync(b.Cache, User, 1, 1);
        await gated.GetReachedGate.Task.DefaultTimeout();
        await rig.MarkReadUnpublishedAsync(b, User, 1, 8_000_001); // through b itself, not yet in the stream: buffered by the load
        await rig.CommitAsync(User, 3, 8_000_002);                 // through another replica: b's tail buffers it
        await SnapshotTierRig.TailAsync(b);
        gated.GetGate.SetResult();
        var (_, result) = await miss;
        await rig.PublishAsync([new StreamChange(User, 1, 8_000_001, StreamChangeKind.Upsert)]); // the CDC catches up

        Assert.Equal(CheckSource.Snapshot, result.Source);
        var sources = await rig.AssertNoFalseNegativesAsync(b, User);
        Assert.All(sources, s => Assert.Equal(CheckSource.Memory, s));
    }

    [Fact]
    public async Task A_snapshot_of_an_earlier_epoch_is_not_used_and_is_deleted()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);

        // Redis lost the stream and the CDC started a new epoch; a write of the new epoch the snapshot cannot know.
        await rig.Redis.GetDatabase().KeyDeleteAsync(rig.Keys.Stream).DefaultTimeout();
        await rig.SetEpochAsync(SnapshotTierRig.Epoch + 1);
        rig.Db.Seed(User, 1, 9_000_001);
        rig.Acked[(User, new ContentKey(1, 9_000_001))] = 0;
        var b = await rig.NodeAsync();

        var sources = await rig.AssertNoFalseNegativesAsync(b, User);

        Assert.Equal(CheckSource.Database, sources[0]);
        Assert.Equal(1, b.Tier.Metrics.Stale);
        Assert.False(await rig.StoredAsync(User));
    }

    [Fact]
    public async Task A_snapshot_whose_cursor_was_trimmed_from_the_stream_is_not_used_and_is_deleted()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        await rig.PublishAsync([new StreamChange(1, 1, 1, StreamChangeKind.Upsert)]);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        await rig.CommitAsync(User, 1, 9_500_001);
        await rig.CommitAsync(User, 1, 9_500_002);
        await rig.Redis.GetDatabase().StreamTrimAsync(rig.Keys.Stream, 1).DefaultTimeout();
        var b = await rig.NodeAsync();

        var sources = await rig.AssertNoFalseNegativesAsync(b, User);

        Assert.Equal(CheckSource.Database, sources[0]);
        Assert.Equal(1, b.Tier.Metrics.Stale);
        Assert.False(await rig.StoredAsync(User));
    }

    [Fact]
    public async Task A_snapshot_whose_catch_up_meets_a_delete_of_the_user_is_not_used()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);

        // The user is forgotten through a node that could not reach T2 (the snapshot stayed), then reads again.
        await rig.Db.ForgetAsync(User, CancellationToken.None);
        foreach (var key in rig.Acked.Keys.Where(k => k.User == User).ToList())
        {
            rig.Acked.TryRemove(key, out _);
        }

        await rig.PublishAsync([new StreamChange(User, 0, 0, StreamChangeKind.Delete)]);
        await rig.CommitAsync(User, 1, 9_600_001);
        var b = await rig.NodeAsync();

        var (bitmap, result) = await CacheTestKit.CheckAsync(b.Cache, User, 1, User * 1_000_000, 9_600_001);

        Assert.Equal(CheckSource.Database, result.Source);
        Assert.False(CacheTestKit.IsSet(bitmap, 0), "a forgotten read came back read");
        Assert.True(CacheTestKit.IsSet(bitmap, 1));
        Assert.Equal(1, b.Tier.Metrics.Stale);
    }

    [Fact]
    public async Task Forget_deletes_the_snapshot_before_the_database_rows_and_the_next_miss_reads_the_database()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        var ids = rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        var source = new ForgetOrderSource(rig.Db, rig.StoredAsync);
        var b = await rig.NodeAsync(source: source);

        await b.Cache.ForgetAsync(User, passthrough: false, CancellationToken.None).DefaultTimeout();
        var (bitmap, result) = await CacheTestKit.CheckAsync(b.Cache, User, 1, ids[0], ids[1]);

        Assert.Equal([false], source.SnapshotStoredAtDelete);
        Assert.Equal(CheckSource.Database, result.Source);
        Assert.Equal(0, bitmap[0] & 0b11);
        Assert.Equal(1, b.Tier.Metrics.Misses);
    }

    [Fact]
    public async Task Two_replicas_writing_back_the_same_user_leave_a_snapshot_without_false_negatives()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        var b = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await SnapshotTierRig.WarmAsync(b, User);
        await rig.MarkReadAsync(a, User, 1, 9_700_001);
        await SnapshotTierRig.TailAsync(a);
        await SnapshotTierRig.TailAsync(b);

        await rig.EvictAsync(b, User);                    // b's snapshot first
        await rig.MarkReadAsync(a, User, 2, 9_700_002);   // then a newer write, held by a only
        await SnapshotTierRig.TailAsync(a);
        await rig.EvictAsync(a, User);                    // a's snapshot replaces b's
        await rig.CommitAsync(User, 1, 9_700_003);        // and one the stream alone carries
        var c = await rig.NodeAsync();
        await SnapshotTierRig.TailAsync(c);

        var sources = await rig.AssertNoFalseNegativesAsync(c, User);

        Assert.Contains(CheckSource.Snapshot, sources);
    }

    [Fact]
    public async Task A_heavy_user_is_written_back_right_after_its_rebuild_and_a_light_one_is_not()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 2_000);
        rig.Seed(User + 1, 50);
        var a = await rig.NodeAsync(configure: static o => o.WriteBackMinRows = 1_000);

        await SnapshotTierRig.WarmAsync(a, User);
        await SnapshotTierRig.WarmAsync(a, User + 1);
        await Poll.UntilAsync(() => a.Tier.Metrics.Written == 1 && a.Tier.QueuedWriteBacks == 0, "the heavy user's write-back");

        Assert.True(await rig.StoredAsync(User));
        Assert.False(await rig.StoredAsync(User + 1));
        var b = await rig.NodeAsync();
        Assert.Contains(CheckSource.Snapshot, await rig.AssertNoFalseNegativesAsync(b, User));
    }

    [Fact]
    public async Task A_miss_whose_snapshot_load_is_slow_answers_from_the_database()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        GatedSnapshotStore? gated = null;
        var b = await rig.NodeAsync(configure: static o => o.LoadTimeout = TimeSpan.FromMilliseconds(20), wrap: store => gated = new GatedSnapshotStore(store));
        gated!.GetGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        CheckSource[] sources;
        try
        {
            sources = await rig.AssertNoFalseNegativesAsync(b, User);
        }
        finally
        {
            gated.GetGate.SetResult();
        }

        Assert.Equal(CheckSource.Database, sources[0]);
        await CacheTestKit.WaitForRebuildsAsync(b.Cache);
        Assert.Equal(1, b.Tier.Metrics.LoadErrors);
        Assert.True(b.Holds(User), "the database rebuild took over");
    }

    [Fact]
    public async Task A_load_past_LoadTimeout_but_within_CatchUpTimeout_installs_the_snapshot_without_a_database_scan()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        GatedSnapshotStore? gated = null;
        var b = await rig.NodeAsync(
            configure: static o => (o.LoadTimeout, o.CatchUpTimeout) = (TimeSpan.FromMilliseconds(20), TestTimeout.Default),
            wrap: store => gated = new GatedSnapshotStore(store));
        gated!.GetGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scans = rig.Db.Scans;

        CheckSource[] sources;
        try
        {
            sources = await rig.AssertNoFalseNegativesAsync(b, User);
        }
        finally
        {
            gated.GetGate.SetResult();
        }

        await CacheTestKit.WaitForRebuildsAsync(b.Cache);
        Assert.Equal(CheckSource.Database, sources[0]);
        Assert.Equal((1, 0), (b.Tier.Metrics.Hits, b.Tier.Metrics.LoadErrors));
        Assert.Equal(scans, rig.Db.Scans);
        Assert.All(await rig.AssertNoFalseNegativesAsync(b, User), s => Assert.Equal(CheckSource.Memory, s));
    }

    [Fact]
    public async Task Concurrent_misses_of_one_user_share_one_load()
    {
        await using var rig = await SnapshotTierRig.CreateAsync(servers.Redis.Endpoint);
        var ids = rig.Seed(User, 3_000);
        var a = await rig.NodeAsync(SmallBudget);
        await SnapshotTierRig.WarmAsync(a, User);
        await rig.EvictAsync(a, User);
        GatedSnapshotStore? gated = null;
        var b = await rig.NodeAsync(wrap: store => gated = new GatedSnapshotStore(store));
        gated!.GetGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var misses = Enumerable.Range(0, 8).Select(i => CacheTestKit.CheckAsync(b.Cache, User, 1, ids[i])).ToArray();
        await gated.GetReachedGate.Task.DefaultTimeout();
        gated.GetGate.SetResult();
        var results = await Task.WhenAll(misses);

        Assert.Equal(1, gated.Gets);
        Assert.All(results, r => Assert.Equal(CheckSource.Snapshot, r.Result.Source));
        Assert.All(results, r => Assert.True(CacheTestKit.IsSet(r.Bitmap, 0)));
    }

    [Theory]
    [InlineData(7UL, "1733600000000-0")]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, "281474976710655-65535")]
    [InlineData(1UL, "0-0")]
    public void A_cursor_survives_the_snapshot_stamp(ulong epoch, string id)
    {
        var stamp = new byte[FilterSnapshotHeader.StampSize];

        Assert.True(Server.Cache.SnapshotTier.TryEncodeStamp(new StreamCursor(epoch, id), stamp));
        Assert.Equal(new StreamCursor(epoch, id), Server.Cache.SnapshotTier.DecodeStamp(stamp));
    }

    [Theory]
    [InlineData(0UL, "5-0")]                    // no epoch: nothing proves continuity
    [InlineData(7UL, "5-65536")]                // seq past 16 bits
    [InlineData(7UL, "281474976710656-0")]      // ms past 48 bits
    public void A_cursor_the_stamp_cannot_hold_is_refused(ulong epoch, string id) =>
        Assert.False(Server.Cache.SnapshotTier.TryEncodeStamp(new StreamCursor(epoch, id), new byte[FilterSnapshotHeader.StampSize]));
}
