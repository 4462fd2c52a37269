using ReadHistory.Server.Cdc;
using ReadHistory.TestSupport;
using StackExchange.Redis;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Cdc;

/// <summary>The leader's heartbeats: into every slot stream while idle, fenced like publishes, gone with the lease.</summary>
[Collection(CdcServersFixture.Collection)]
public sealed class CdcHeartbeatTests(CdcServersFixture servers)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task An_idle_leader_beats_into_every_slot_stream_of_every_pool_stamped_now_without_moving_the_checkpoint()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, configure: static o => o.HeartbeatInterval = Interval);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var publisher = await harness.StartLeaderAsync();
        var checkpoint = (await new CdcRedisStore(harness.Redis.GetDatabase(), harness.Keys).ReadCheckpointAsync().DefaultTimeout())?.Format();

        var beats = await Poll.UntilAsync(() => HeartbeatsAsync(harness), static all => all.All(s => s.Count >= 3), "three heartbeats in every stream");
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(4 + 3, beats.Count);
        Assert.All(beats.SelectMany(static s => s), beat =>
        {
            Assert.Equal(0, beat.Count);
            Assert.Equal(publisher.Epoch, beat.Epoch);
            Assert.Equal(publisher.LastPublishedPosition, beat.SourcePosition);
            Assert.InRange(beat.CommitTimeMs, before, after);
        });
        Assert.Equal(checkpoint, (await new CdcRedisStore(harness.Redis.GetDatabase(), harness.Keys).ReadCheckpointAsync().DefaultTimeout())?.Format());
        Assert.True(publisher.Metrics.HeartbeatsPublished >= 3 * 7);
        Assert.Equal(0, publisher.Metrics.RowsPublished);
    }

    [Fact]
    public async Task A_reader_sees_a_heartbeat_after_a_batch_and_the_batch_s_rows_before_its_stamp()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)], static o => o.HeartbeatInterval = Interval);
        var publisher = await harness.StartLeaderAsync();
        await harness.InsertAsync(9, 1, 1);
        await harness.WaitForChangesAsync("default", publisher.Epoch, static c => c.Count >= 1, "the row arrives");

        var entries = await Poll.UntilAsync(() => EntriesAsync(harness, "default", 0), static e => e.SkipWhile(static b => b.Count == 0).Skip(1).Any(static b => b.Count == 0), "a heartbeat after the batch");
        var batch = entries.First(static b => b.Count > 0);
        var beat = entries.SkipWhile(static b => b.Count == 0).Skip(1).First(static b => b.Count == 0);

        Assert.True(beat.CommitTimeMs >= batch.CommitTimeMs, $"heartbeat stamp {beat.CommitTimeMs} before the batch's {batch.CommitTimeMs}");
        Assert.Equal(batch.SourcePosition, beat.SourcePosition);
    }

    [Fact]
    public async Task A_leader_that_lost_its_lease_writes_no_heartbeat_until_it_leads_again()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 2)], static o => o.HeartbeatInterval = Interval);
        var leader = await harness.StartLeaderAsync();
        await Poll.UntilAsync(() => HeartbeatsAsync(harness), static all => all.All(s => s.Count >= 1), "heartbeats flow");
        var db = harness.Redis.GetDatabase();
        var lease = TimeSpan.FromMilliseconds(1500);

        // The lease goes to another holder for 1.5 s, which claims every slot: from then on (Redis's own clock), no entry
        // may land until the deposed leader leads again (its next token is drawn above the thief's fence).
        await harness.StealLeaseAsync("999999-thief", lease, leader.Epoch);
        var taken = await RedisNowMsAsync(db);
        await Poll.UntilAsync(() => !leader.IsLeader, "the deposed leader stands down");
        await Poll.UntilAsync(() => leader.IsLeader, "it leads again once the lease expired");
        await Poll.UntilAsync(() => StreamIdsMsAsync(db, harness), all => all.All(s => s.Any(ms => ms > taken + (long)lease.TotalMilliseconds)), "heartbeats resume in every stream");

        var during = (await StreamIdsMsAsync(db, harness)).SelectMany(static s => s).Where(ms => ms > taken && ms < taken + (long)lease.TotalMilliseconds - 50).ToList();
        Assert.Empty(during);
    }

    private static async Task<List<List<ChangeBatch>>> HeartbeatsAsync(CdcHarness harness)
    {
        var all = new List<List<ChangeBatch>>();
        foreach (var pool in harness.Map.Pools)
        {
            for (var slot = 0; slot < harness.Map.SlotCount(harness.Map.Pools.ToList().IndexOf(pool)); slot++)
            {
                all.Add((await EntriesAsync(harness, pool, slot)).Where(static b => b.Count == 0).ToList());
            }
        }

        return all;
    }

    private static async Task<List<ChangeBatch>> EntriesAsync(CdcHarness harness, string pool, int slot)
    {
        var entries = await harness.Redis.GetDatabase().StreamRangeAsync(harness.Keys.Stream(pool, slot)).DefaultTimeout();
        return entries.Select(static e => ChangeBatch.Parse((byte[])e["data"]!)).ToList();
    }

    private static async Task<List<List<long>>> StreamIdsMsAsync(IDatabase db, CdcHarness harness)
    {
        var all = new List<List<long>>();
        for (var slot = 0; slot < 2; slot++)
        {
            var entries = await db.StreamRangeAsync(harness.Keys.Stream("default", slot)).DefaultTimeout();
            all.Add(entries.Select(static e => long.Parse(((string)e.Id!).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList());
        }

        return all;
    }

    private static async Task<long> RedisNowMsAsync(IDatabase db)
    {
        var time = (RedisResult[])(await db.ExecuteAsync("TIME").DefaultTimeout())!;
        return ((long)time[0] * 1000) + ((long)time[1] / 1000);
    }
}
