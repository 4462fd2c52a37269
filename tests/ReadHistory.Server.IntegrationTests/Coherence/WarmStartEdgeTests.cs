using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Coherence;
using ReadHistory.Server.Storage;
using ReadHistory.Server.IntegrationTests.Cache;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using Xunit.Abstractions;
using ReadHistory.TestSupport.Server;
using Replica = ReadHistory.Server.IntegrationTests.Coherence.CoherenceCluster.Replica;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Server.IntegrationTests.Coherence;

/// <summary>
/// The edges of warm start with real MariaDB, Redis and CDC and several in-process hosts: a joining replica whose
/// budget holds only part of its peer, the stream's epoch changing while a replica copies, and a whole slot's
/// replicas restarting at once. Each ends with every acknowledged id read through every replica (zero false negatives
/// against an exact model).
/// </summary>
[Collection(CdcServersFixture.Collection)]
public sealed class WarmStartEdgeTests(CdcServersFixture servers, ITestOutputHelper output)
{
    private const string GapsMetric = "readhistory_coherence_gaps_total";
    private const int Writers = 3;
    private const int NegativesPerUser = 100;
    private const ulong FenceUserA = 9_000_001;
    private const ulong FenceUserB = 9_000_002;
    private static readonly ulong[] SmallUsers = [.. Enumerable.Range(1, 24).Select(static u => (ulong)(2000 + u))];

    [Fact]
    public async Task A_joining_replica_whose_budget_holds_part_of_its_peer_copies_what_fits_and_answers_every_user()
    {
        // 32 users of 20,000 rows at a 0.01 % target rate: ~2 MiB of filters, twice the joiner's 1 MiB budget.
        var heavy = Enumerable.Range(1, 32).Select(static u => (ulong)(3000 + u)).ToArray();
        var prefix = NewPrefix();
        var cdcSettings = TestHost.Settings("cdc", servers.MariaDb.ConnectionString(), prefix, servers.Redis.Endpoint);
        await using var cdc = await TestHost.StartReadyAsync(cdcSettings);
        var work = new CoherenceWorkload(heavy, seed: 21);
        await PreloadAsync(new ShardNames(prefix, 1, 1), heavy, rows: 20_000, work.Model, sampleIntoModel: 40);

        var peerSettings = CacheSettings(prefix, servers.Redis.Endpoint);
        peerSettings["ReadHistory:Cache:TargetFalsePositiveRate"] = "0.0001";
        peerSettings["ReadHistory:Cache:MaxFilterBytes"] = (256 << 10).ToString(CultureInfo.InvariantCulture);
        await using var peerHost = await TestHost.StartReadyAsync(peerSettings);
        using var a = new Replica(peerHost);
        await work.WarmAsync(a);

        // Writes through the peer go on while the joiner copies, replays and becomes ready, and for a while after.
        using var stop = new CancellationTokenSource();
        var writing = work.WriteAsync([() => a], Writers, maxWrites: 20_000, stop.Token);
        await work.UntilWritesAsync(work.Model.Writes + 50);
        // The peer's own filters and cursor behind a Snapshot endpoint that, once the first chunk's filters were read
        // (after the cursor), commits a write for each of its users and lets the peer apply it before sending: those
        // writes are in the copy of none and in the stream after the cursor, so only the replay brings them.
        var cache = peerHost.App.Services.GetRequiredService<CacheNodeHost>().Current!;
        var cursors = peerHost.App.Services.GetRequiredService<CoherenceTailer>().Cursors;
        await using var snapshots = await SnapshotPeer.StartAsync(cache, cursors);
        var late = 0;
        snapshots.Tamper = async (chunk, index, cancellationToken) =>
        {
            if (index == 0)
            {
                foreach (var user in chunk.Filters.Select(static f => f.UserId).Distinct())
                {
                    var id = (1UL << 42) + user;
                    await a.MarkAsync(user, [id]);
                    work.Model.Acknowledge(user, [id]);
                    await a.CheckUntilAsync(user, [id], static r => r.Source == AnswerSource.Memory && r.UnreadCount == 0);
                    late++;
                }
            }

            return chunk;
        };

        var joinerSettings = Joining(peerSettings, [snapshots.Address, new Uri("http://127.0.0.1:1")], replica: 1);
        joinerSettings["ReadHistory:Cache:BudgetBytes"] = (1 << 20).ToString(CultureInfo.InvariantCulture);
        await using var joinerHost = await TestHost.StartReadyAsync(joinerSettings);
        using var b = new Replica(joinerHost);
        var held = (await StatsAsync(b)).Users;
        await work.UntilWritesAsync(work.Model.Writes + 150);
        await stop.CancelAsync();
        await writing.DefaultTimeout();

        output.WriteLine($"the joiner holds {held} of {heavy.Length} users after its warm start; {late} written after the cursor");
        Assert.True(late > 0, "no write was committed after the peer's cursor");
        Assert.InRange(held, 1UL, (ulong)heavy.Length - 1);
        // One warm attempt, kept, that says the budget filled (the install hit it, or the peer stopped at the bytes
        // the budget had left and marked its last chunk truncated).
        output.WriteLine($"warm starts: {await MetricAsync(b, "readhistory_cache_warm_starts_total")}");
        Assert.Equal(1, await MetricAsync(b, "readhistory_cache_warm_starts_total{outcome=\"budget_full\""));
        Assert.Equal(0, await MetricAsync(b, "readhistory_cache_warm_starts_total{outcome=\"completed\""));
        Assert.Equal(0, await MetricAsync(b, "readhistory_cache_warm_starts_total{outcome=\"failed\""));
        Assert.Equal((double)held, await b.CounterAsync("readhistory_cache_warm_start_users_total"));

        // Users not copied are rebuilt from the database on their miss (evicting others: the budget stays full).
        await AssertConvergedAsync(work, a, b);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_replica_copying_while_the_stream_epoch_changes_keeps_no_filter_it_cannot_prove(bool publisherBackBeforeCopyEnds)
    {
        // Redis of its own: it is wiped in the middle of the copy.
        await using var redis = await RedisServer.StartAsync();
        var prefix = NewPrefix();
        var cdcSettings = TestHost.Settings("cdc", servers.MariaDb.ConnectionString(), prefix, redis.Endpoint);
        TestHost? cdc = await TestHost.StartReadyAsync(cdcSettings);
        try
        {
            var cacheSettings = CacheSettings(prefix, redis.Endpoint);
            await using var peerHost = await TestHost.StartReadyAsync(cacheSettings);
            using var a = new Replica(peerHost);
            var work = new CoherenceWorkload(SmallUsers, seed: publisherBackBeforeCopyEnds ? 31 : 37);
            await work.WarmAsync(a);

            using var stop = new CancellationTokenSource();
            var writing = work.WriteAsync([() => a], Writers, maxWrites: 20_000, stop.Token);
            await work.UntilWritesAsync(100);

            // The peer's own filters and cursor behind a Snapshot endpoint that, after the first chunk went out (the
            // cursor read, filters copied), stops the publisher, lets writes commit that reach no stream, and brings
            // Redis back empty: a new epoch. With the publisher back before the copy ends, the joiner sees the new
            // epoch at its end; otherwise an empty Redis, and the new epoch once it tails.
            var cache = peerHost.App.Services.GetRequiredService<CacheNodeHost>().Current!;
            var cursors = peerHost.App.Services.GetRequiredService<CoherenceTailer>().Cursors;
            await using var snapshots = await SnapshotPeer.StartAsync(cache, cursors);
            var gapsBefore = await a.CounterAsync(GapsMetric);
            var joinerStarted = new TaskCompletionSource<TestHost>(TaskCreationOptions.RunContinuationsAsynchronously);
            snapshots.Tamper = async (chunk, index, cancellationToken) =>
            {
                if (chunk.Last)
                {
                    // The joiner reads the stream's tail when the copy ends: let its Redis connection come back first,
                    // so that it judges the epoch (rather than discarding the copy because Redis is unreachable).
                    var joiner = await joinerStarted.Task.DefaultTimeout();
                    var connection = joiner.App.Services.GetRequiredService<RedisConnector>().Connection;
                    await Poll.UntilAsync(() => connection.IsConnected, "the joiner's Redis connection is back");
                }
                else if (index == 1)
                {
                    await cdc!.DisposeAsync();
                    cdc = null;
                    await work.UntilWritesAsync(work.Model.Writes + 60);
                    await redis.RestartAsync(wipeData: true);
                    if (publisherBackBeforeCopyEnds)
                    {
                        cdc = await TestHost.StartAsync(cdcSettings);
                        await Poll.UntilAsync(async () => await a.CounterAsync(GapsMetric) > gapsBefore, "the peer counts the gap");
                    }
                }

                return chunk;
            };

            var joinerSettings = Joining(cacheSettings, [snapshots.Address, new Uri("http://127.0.0.1:1")], replica: 1, chunkBytes: 256);
            await using var joinerHost = await TestHost.StartAsync(joinerSettings);
            joinerStarted.SetResult(joinerHost);
            await WaitReadyAsync(joinerHost);
            using var b = new Replica(joinerHost);
            // Before anything asks the joiner: whatever it copied, it must not hold it.
            var heldAtReady = (await StatsAsync(b)).Users;
            var chunks = snapshots.ChunksWritten;
            if (!publisherBackBeforeCopyEnds)
            {
                cdc = await TestHost.StartAsync(cdcSettings);
            }

            await work.UntilWritesAsync(work.Model.Writes + 200);
            await stop.CancelAsync();
            await writing.DefaultTimeout();

            output.WriteLine($"{chunks} chunks sent; the joiner held {heldAtReady} users when ready; joiner gaps {await b.CounterAsync(GapsMetric)}");
            Assert.True(chunks > 2, $"the copy took {chunks} chunks; expected the epoch to change in the middle of it");
            await AssertConvergedAsync(work, a, b);
            Assert.Equal(0UL, heldAtReady);
        }
        finally
        {
            if (cdc is not null)
            {
                await cdc.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_whole_slot_restarting_at_once_starts_cold_within_the_bound_and_converges()
    {
        var prefix = NewPrefix();
        var names = new ShardNames(prefix, 1, 1);
        var cdcSettings = TestHost.Settings("cdc", servers.MariaDb.ConnectionString(), prefix, servers.Redis.Endpoint);
        await using var cdc = await TestHost.StartReadyAsync(cdcSettings);

        // Both replicas of slot 0 on fixed ports, each naming the other as its peer.
        Uri[] addresses = [new("http://127.0.0.1:" + FreePort.Next()), new("http://127.0.0.1:" + FreePort.Next())];
        var settings = new[] { 0, 1 }.Select(r =>
        {
            var s = Joining(CacheSettings(prefix, servers.Redis.Endpoint), addresses, replica: r);
            s["ReadHistory:InternalGrpcListen"] = addresses[r].Authority;
            s["ReadHistory:Cache:WarmStartTimeout"] = "00:00:08";
            return s;
        }).ToArray();

        var work = new CoherenceWorkload(SmallUsers, seed: 41);
        var hosts = await Task.WhenAll(settings.Select(TestHost.StartReadyAsync));
        var replicas = hosts.Select(static h => new Replica(h)).ToArray();
        using var stop = new CancellationTokenSource();
        var writing = work.WriteAsync([() => replicas[0], () => replicas[1]], Writers, maxWrites: 20_000, stop.Token);
        await work.WarmAsync(replicas[0]);
        await work.WarmAsync(replicas[1]);
        await work.UntilWritesAsync(150);
        await stop.CancelAsync();
        await writing.DefaultTimeout();

        // The whole tier goes away; rows keep being committed (straight into the database) while it is down and while
        // it starts again.
        foreach (var replica in replicas)
        {
            replica.Dispose();
        }

        await Task.WhenAll(hosts.Select(static h => h.DisposeAsync().AsTask()));
        using var stopRows = new CancellationTokenSource();
        var rowsWritten = 0;
        var rows = Task.Run(async () =>
        {
            for (var i = 0; i < 2_000 && !stopRows.IsCancellationRequested; i++)
            {
                var user = SmallUsers[i % SmallUsers.Length];
                var id = (1UL << 41) + (ulong)i;
                await servers.MariaDb.SqlAsync(FormattableString.Invariant($"INSERT INTO {names.QualifiedTable(0)} (user_id, content_type, content_id, read_at) VALUES ({user},0,{id},1700000000)"));
                work.Model.Acknowledge(user, [id]);
                Interlocked.Increment(ref rowsWritten);
                await Task.Delay(5, CancellationToken.None);
            }
        });
        await Poll.UntilAsync(() => Volatile.Read(ref rowsWritten) >= 20, "20 rows are written while the slot is down");

        hosts = await Task.WhenAll(settings.Select(TestHost.StartReadyAsync));
        replicas = hosts.Select(static h => new Replica(h)).ToArray();
        try
        {
            // Nobody held anything to copy: both are cold (first answers come from the database).
            var first = await Task.WhenAll(replicas.Select(r => r.CheckAsync(SmallUsers[0], [1])));
            var attempts = await Task.WhenAll(replicas.Select(static r => r.CounterAsync("readhistory_cache_warm_start_users_total")));
            output.WriteLine($"first answers {string.Join(", ", first.Select(static f => f.Source))}; users copied {string.Join(", ", attempts)}");
            Assert.All(first, static f => Assert.Equal(AnswerSource.Database, f.Source));
            Assert.All(attempts, static n => Assert.Equal(0, n));

            var writesBefore = work.Model.Writes;
            using var stopAfter = new CancellationTokenSource();
            writing = work.WriteAsync([() => replicas[0], () => replicas[1]], Writers, maxWrites: 20_000, stopAfter.Token);
            await work.UntilWritesAsync(writesBefore + 200);
            await stopRows.CancelAsync();
            await stopAfter.CancelAsync();
            await Task.WhenAll(writing, rows).DefaultTimeout();
            Assert.True(Volatile.Read(ref rowsWritten) > 20, "no row was committed while the replicas started");

            await AssertConvergedAsync(work, replicas[0], replicas[1]);
        }
        finally
        {
            await stopRows.CancelAsync();
            foreach (var replica in replicas)
            {
                replica.Dispose();
            }

            await Task.WhenAll(hosts.Select(static h => h.DisposeAsync().AsTask()));
        }
    }

    private static string NewPrefix() => "edge" + Guid.NewGuid().ToString("N")[..8];

    private Dictionary<string, string?> CacheSettings(string prefix, string redis)
    {
        var settings = TestHost.Settings("cache", servers.MariaDb.ConnectionString(), prefix, redis);
        settings["ReadHistory:Cache:RebuildRowsPerSecond"] = "0";
        return settings;
    }

    /// <summary><paramref name="settings"/> for replica <paramref name="replica"/> of slot 0 of pool "default", whose replicas are <paramref name="replicas"/>.</summary>
    private static Dictionary<string, string?> Joining(Dictionary<string, string?> settings, Uri[] replicas, int replica, int chunkBytes = 64 << 10)
    {
        var joining = new Dictionary<string, string?>(settings)
        {
            ["ReadHistory:Topology:Pools:0:Name"] = "default",
            ["ReadHistory:Cache:Replica"] = replica.ToString(CultureInfo.InvariantCulture),
            ["ReadHistory:Cache:WarmStartTimeout"] = "00:00:15",
            ["ReadHistory:Cache:WarmStartChunkBytes"] = chunkBytes.ToString(CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < replicas.Length; i++)
        {
            joining[FormattableString.Invariant($"ReadHistory:Topology:Pools:0:Slots:0:Replicas:{i}")] = replicas[i].ToString();
        }

        return joining;
    }

    /// <summary>
    /// <paramref name="rows"/> rows of each of <paramref name="users"/> straight into the table (ids above every id the
    /// workload writes); <paramref name="sampleIntoModel"/> of each user's go into the model to be checked.
    /// </summary>
    private async Task PreloadAsync(ShardNames names, ulong[] users, int rows, AcknowledgedReads model, int sampleIntoModel)
    {
        const int Batch = 20_000;
        foreach (var user in users)
        {
            for (var from = 0; from < rows; from += Batch)
            {
                var count = Math.Min(Batch, rows - from);
                var values = string.Join(",", Enumerable.Range(from, count).Select(i => FormattableString.Invariant($"({user},0,{(1UL << 40) + (ulong)i},1700000000)")));
                await servers.MariaDb.SqlAsync($"INSERT INTO {names.QualifiedTable(0)} (user_id, content_type, content_id, read_at) VALUES {values}").DefaultTimeout();
            }

            model.Acknowledge(user, Enumerable.Range(0, sampleIntoModel).Select(i => (1UL << 40) + (ulong)(i * (rows / sampleIntoModel))));
        }
    }

    /// <summary>Fences both replicas, then checks every acknowledged id through each: no false negative; FPR near its target.</summary>
    private async Task AssertConvergedAsync(CoherenceWorkload work, Replica a, Replica b)
    {
        Assert.True(work.FailedWrites == 0, $"{work.FailedWrites} writes failed: {string.Join("; ", work.Errors.Take(3))}");
        await work.FenceAsync(a, b, FenceUserB);
        await work.FenceAsync(b, a, FenceUserA);
        var throughA = await work.VerifyAsync(a, NegativesPerUser);
        var throughB = await work.VerifyAsync(b, NegativesPerUser);
        output.WriteLine($"{work.Model.Writes} acknowledged writes; through A: {throughA}; through B: {throughB}");
        Assert.True(throughA.FalseNegatives.Count == 0, "false negatives through A: " + string.Join(", ", throughA.FalseNegatives.Take(10)));
        Assert.True(throughB.FalseNegatives.Count == 0, "false negatives through B: " + string.Join(", ", throughB.FalseNegatives.Take(10)));
        Assert.Equal(work.Model.Ids, throughA.Ids);
        Assert.Equal(work.Model.Ids, throughB.Ids);
        Assert.InRange(throughA.FalsePositiveRate, 0, 0.02);
        Assert.InRange(throughB.FalsePositiveRate, 0, 0.02);
    }

    private static async Task<PoolStats> StatsAsync(Replica replica)
    {
        var response = await new CacheNodeClient(replica.Calls).StatsAsync(new StatsRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        return Assert.Single(response.Pools);
    }

    /// <summary>The sum of the values of the lines of <paramref name="replica"/>'s /metrics that start with <paramref name="linePrefix"/>.</summary>
    private static async Task<double> MetricAsync(Replica replica, string linePrefix)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(replica.Host.Http, "/metrics")).DefaultTimeout();
        return text.Split('\n').Where(line => line.StartsWith(linePrefix, StringComparison.Ordinal))
            .Sum(static line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static async Task WaitReadyAsync(TestHost host)
    {
        using var http = new HttpClient();
        await Poll.UntilAsync(async () => (await http.GetAsync(new Uri(host.Http, "/readyz"))).IsSuccessStatusCode, "the host is ready");
    }
}
