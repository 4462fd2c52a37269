using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using Xunit;
using ReadHistory.TestSupport.Server;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>Warm start over real gRPC (our server on Kestrel, our client): a receiver copies a peer's filters.</summary>
public sealed class WarmStartTests
{
    private static readonly byte[] PeerCursor = [0, 0, 0, 0, 0, 0, 0, 7, (byte)'1', (byte)'7', (byte)'-', (byte)'3'];

    [Fact]
    public async Task A_warm_started_node_answers_exactly_like_its_peer_without_touching_its_database()
    {
        var (peerSource, peerCache) = await LoadedPeerAsync(users: 300);
        await using var _ = peerCache;
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        var receiverSource = new InMemoryHistorySource();
        await using var receiver = CacheTestKit.NewNode(receiverSource, CacheTestKit.Options(budgetBytes: 64 << 20));
        using var starter = CacheTestKit.NewStarter(receiver);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Completed, result.Outcome);
        Assert.True(result.IsWarm);
        Assert.Equal(PeerCursor, result.Cursor.ToArray());
        Assert.Equal(300, result.Users);
        Assert.Equal(300, receiver.Filters.Users);
        Assert.Equal(result.Bytes, starter.Metrics.BytesTotal);
        Assert.Equal(300, starter.Metrics.UsersTotal);
        await AssertSameAnswersAsync(peerCache, receiver, peerSource, sample: Enumerable.Range(1, 300).Where(u => u % 7 == 0));
        Assert.Equal(0, receiverSource.PointQueries);
        Assert.Equal(0, receiverSource.Scans);
    }

    [Fact]
    public async Task A_receiver_holding_nothing_takes_its_peers_index_layout_from_the_first_chunk()
    {
        var (peerSource, peerCache) = await LoadedPeerAsync(users: 300);
        await using var _ = peerCache;
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        SnapshotChunk? first = null;
        peer.Tamper = (chunk, index, _) =>
        {
            first ??= index == 0 ? chunk.Clone() : null;
            return Task.FromResult(chunk);
        };
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: 64 << 20));
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: 4096);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Completed, result.Outcome);
        Assert.NotNull(first);
        Assert.Equal(peerCache.Filters.LayoutSalt, first.LayoutSalt);
        Assert.Equal(300UL, first.Users);
        Assert.Equal((ulong)peerCache.Filters.Bytes, first.PoolBytes);
        Assert.Equal(peerCache.Filters.LayoutSalt, receiver.Filters.LayoutSalt);
        await AssertSameAnswersAsync(peerCache, receiver, peerSource, sample: Enumerable.Range(1, 300).Where(u => u % 5 == 0));
    }

    [Fact]
    public async Task A_receiver_already_holding_a_user_keeps_its_own_layout_and_still_gets_every_filter()
    {
        var (peerSource, peerCache) = await LoadedPeerAsync(users: 300);
        await using var _ = peerCache;
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        var receiverSource = new InMemoryHistorySource();
        receiverSource.Seed(5000, 1, 1);
        await using var receiver = CacheTestKit.NewNode(receiverSource, CacheTestKit.Options(budgetBytes: 64 << 20));
        await CacheTestKit.CheckAsync(receiver, 5000, 1, 1);
        await CacheTestKit.WaitForRebuildsAsync(receiver);
        var salt = receiver.Filters.LayoutSalt;
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: 4096);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Completed, result.Outcome);
        Assert.Equal(salt, receiver.Filters.LayoutSalt);
        Assert.Equal(301, receiver.Filters.Users);
        await AssertSameAnswersAsync(peerCache, receiver, peerSource, sample: Enumerable.Range(1, 300).Where(u => u % 5 == 0));
    }

    [Fact]
    public async Task A_default_chunk_of_thousands_of_small_filters_stays_within_the_receivers_message_limit()
    {
        // 12,000 filters of 10 items: over 1 MiB of snapshots whose per-filter framing (~20 bytes each) outgrows the
        // room a receiver leaves around a chunk's filter bytes, unless the sender counts it.
        await using var peerCache = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: 64 << 20));
        for (ulong u = 1; u <= 12_000; u++)
        {
            var filter = UserFilter.Create(10, BloomFilterOptions.Default);
            filter.Add(1, u);
            peerCache.Filters.Install(u, filter);
        }

        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: 64 << 20));
        using var starter = CacheTestKit.NewStarter(receiver);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.True(result.Outcome == WarmStartOutcome.Completed, result.Error);
        Assert.Equal(12_000, result.Users);
        Assert.True(result.Bytes > SnapshotSender.DefaultChunkBytes, $"{result.Bytes} bytes fit one chunk");
    }

    [Fact]
    public async Task Filters_split_over_many_small_chunks_arrive_whole()
    {
        var (peerSource, peerCache) = await LoadedPeerAsync(users: 40);
        await using var _ = peerCache;
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        var largestChunk = 0;
        peer.Tamper = (chunk, _, _) =>
        {
            // Filter parts as encoded in the chunk: each one's tag, length and message.
            largestChunk = Math.Max(largestChunk, chunk.Filters.Sum(f => 1 + CodedOutputStream.ComputeMessageSize(f)));
            return Task.FromResult(chunk);
        };
        var receiverSource = new InMemoryHistorySource();
        await using var receiver = CacheTestKit.NewNode(receiverSource, CacheTestKit.Options(budgetBytes: 64 << 20));
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: SnapshotSender.MinChunkBytes);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Completed, result.Outcome);
        Assert.Equal(40, result.Users);
        Assert.True(peer.ChunksWritten > result.Bytes / SnapshotSender.MinChunkBytes, $"{peer.ChunksWritten} chunks for {result.Bytes} bytes");
        Assert.InRange(largestChunk, SnapshotSender.MinChunkBytes - 8, SnapshotSender.MinChunkBytes);
        await AssertSameAnswersAsync(peerCache, receiver, peerSource, sample: Enumerable.Range(1, 40));
        Assert.Equal(0, receiverSource.PointQueries);
    }

    [Fact]
    public async Task A_corrupted_chunk_is_rejected_with_a_clear_error_and_the_node_stays_cold()
    {
        var (_, peerCache) = await LoadedPeerAsync(users: 100);
        await using var __ = peerCache;
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        peer.Tamper = (chunk, index, _) => Task.FromResult(index == 3 ? FlipOneBit(chunk) : chunk);
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: 64 << 20));
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: 2048);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Failed, result.Outcome);
        Assert.False(result.IsWarm);
        Assert.Contains("corrupted", result.Error, StringComparison.Ordinal);
        Assert.Contains("CRC-32C", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, receiver.Filters.Users);
        Assert.Equal(receiver.Filters.IndexBytes, receiver.Filters.Bytes); // nothing held but the (empty) index
        Assert.True(result.Cursor.IsEmpty);
    }

    [Fact]
    public async Task The_receiver_stops_at_its_budget_keeping_the_hottest_users()
    {
        var (_, peerCache) = await LoadedPeerAsync(users: 200);
        await using var __ = peerCache;
        foreach (var entry in peerCache.Filters.RankHottestFirst())
        {
            entry.ClearReference();
        }

        var hot = Enumerable.Range(150, 30).Select(u => (ulong)u).ToHashSet();
        foreach (var user in hot)
        {
            await CacheTestKit.CheckAsync(peerCache, user, 1, 1);
        }

        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        var hotBytes = hot.Sum(u => { peerCache.Filters.TryGet(u, out var e); return e!.Filter!.MemoryBytes; });
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: hotBytes));
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: 4096);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        // The peer stops at the byte count it was asked for (budget left, in snapshot bytes, which run a little above
        // what the receiver charges) and marks its last chunk truncated, or the receiver's budget fills first: either
        // way the budget is full.
        Assert.Equal(WarmStartOutcome.BudgetFull, result.Outcome);
        Assert.True(receiver.Filters.Bytes <= receiver.Filters.BudgetBytes);
        Assert.Equal(0, receiver.Filters.Evictions);
        Assert.InRange(result.Users, 25, 30);
        Assert.All(receiver.Filters.RankHottestFirst(), entry => Assert.Contains(entry.UserId, hot));
        // The peer's pool does not fit: its table order stays random under the receiver's own salt.
        Assert.NotEqual(peerCache.Filters.LayoutSalt, receiver.Filters.LayoutSalt);
    }

    [Fact]
    public async Task Cancellation_drops_what_was_installed_and_throws()
    {
        var (_, peerCache) = await LoadedPeerAsync(users: 50);
        await using var __ = peerCache;
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        using var cancel = new CancellationTokenSource();
        peer.Tamper = async (chunk, index, token) =>
        {
            if (index == 2)
            {
                await cancel.CancelAsync();
                await Task.Delay(Timeout.Infinite, token);
            }

            return chunk;
        };
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: 64 << 20));
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: 512);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter.WarmStartAsync(peer.Address, "test", cancel.Token)).DefaultTimeout();

        Assert.Equal(0, receiver.Filters.Users);
    }

    [Fact]
    public async Task A_stalled_peer_ends_in_failure_after_the_bounded_wait()
    {
        var (_, peerCache) = await LoadedPeerAsync(users: 50);
        await using var __ = peerCache;
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        peer.Tamper = async (chunk, index, token) =>
        {
            if (index == 2)
            {
                await Task.Delay(Timeout.Infinite, token);
            }

            return chunk;
        };
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: 64 << 20));
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: 512, timeout: TimeSpan.FromMilliseconds(500));

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Failed, result.Outcome);
        Assert.Contains("timed out", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, receiver.Filters.Users);
    }

    [Fact]
    public async Task An_unreachable_peer_ends_in_failure_not_an_exception()
    {
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options());
        using var starter = CacheTestKit.NewStarter(receiver, timeout: TimeSpan.FromSeconds(5));

        var result = await starter.WarmStartAsync(new Uri("http://127.0.0.1:1"), "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Failed, result.Outcome);
        Assert.False(string.IsNullOrEmpty(result.Error));
        Assert.Equal(0, receiver.Filters.Users);
    }

    [Fact]
    public async Task A_peer_with_nothing_sends_its_cursor_and_the_receiver_is_warm_with_no_users()
    {
        await using var peerCache = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options());
        await using var peer = await SnapshotPeer.StartAsync(peerCache, PeerCursor);
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options());
        using var starter = CacheTestKit.NewStarter(receiver);

        var result = await starter.WarmStartAsync(peer.Address, "test", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Completed, result.Outcome);
        Assert.Equal(PeerCursor, result.Cursor.ToArray());
        Assert.Equal(0, result.Users);
        Assert.Equal(1, peer.ChunksWritten);
    }

    /// <summary>A peer holding users 1..<paramref name="users"/>, each with 10 + (u % 90) reads of type 1, loaded by read-through.</summary>
    internal static async Task<(InMemoryHistorySource Source, ReadThroughCache Cache)> LoadedPeerAsync(int users)
    {
        var source = new InMemoryHistorySource();
        for (var u = 1; u <= users; u++)
        {
            for (var i = 0; i < 10 + (u % 90); i++)
            {
                source.Seed((ulong)u, 1, (ulong)((u * 1000) + (i * 3)));
            }
        }

        var cache = CacheTestKit.NewNode(source, CacheTestKit.Options(budgetBytes: 64 << 20));
        for (var u = 1; u <= users; u++)
        {
            await CacheTestKit.CheckAsync(cache, (ulong)u, 1, 1);
        }

        await CacheTestKit.WaitForRebuildsAsync(cache);
        Assert.Equal(users, cache.Filters.Users);
        return (source, cache);
    }

    /// <summary>Checks read and unread ids (and many that may be false positives) on both nodes: identical bitmaps, from memory.</summary>
    internal static async Task AssertSameAnswersAsync(ReadThroughCache peer, ReadThroughCache receiver, InMemoryHistorySource truth, IEnumerable<int> sample)
    {
        foreach (var u in sample)
        {
            var ids = Enumerable.Range(0, 400).Select(i => (ulong)((u * 1000) + i)).ToArray();
            var (expected, peerResult) = await CacheTestKit.CheckAsync(peer, (ulong)u, 1, ids);
            var (actual, result) = await CacheTestKit.CheckAsync(receiver, (ulong)u, 1, ids);
            Assert.Equal(CheckSource.Memory, peerResult.Source);
            Assert.Equal(CheckSource.Memory, result.Source);
            Assert.Equal(expected, actual);
            for (var i = 0; i < ids.Length; i++)
            {
                if (truth.Contains((ulong)u, 1, ids[i]))
                {
                    Assert.True(CacheTestKit.IsSet(actual, i), $"user {u}: read id {ids[i]} missing after warm start");
                }
            }
        }
    }

    private static SnapshotChunk FlipOneBit(SnapshotChunk chunk)
    {
        var copy = chunk.Clone();
        var part = copy.Filters[^1];
        var data = part.Data.ToByteArray();
        data[data.Length / 2] ^= 0x10;
        part.Data = ByteString.CopyFrom(data);
        return copy;
    }
}
