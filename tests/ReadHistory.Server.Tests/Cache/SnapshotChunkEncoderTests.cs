using System.Buffers;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Filters;
using Grpc.Core;
using ReadHistory.Server.Cache;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>
/// The sender's own SnapshotChunk encoding: what the generated parser reads back from it, the chunk bound, the first
/// chunk's fields, filters written longer or shorter than estimated, and filters split over chunks.
/// </summary>
public sealed class SnapshotChunkEncoderTests
{
    private static readonly byte[] Cursor = [1, 2, 3, 4, 5];

    [Theory]
    [InlineData(64)]
    [InlineData(300)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public void Chunks_parse_back_to_every_filter_whole_and_stay_within_the_chunk_bound(int chunkBytes)
    {
        var filters = Filters(seed: chunkBytes, count: 60);
        using var encoder = new SnapshotChunkEncoder(chunkBytes, Cursor, new SnapshotLayout(0xABCDEF0123456789, 60, 123_456));

        var chunks = Encode(encoder, filters, chunkBytes);

        Assert.Equal(Cursor, chunks[0].Cursor.ToByteArray());
        Assert.Equal(0xABCDEF0123456789UL, chunks[0].LayoutSalt);
        Assert.Equal(60UL, chunks[0].Users);
        Assert.Equal(123_456UL, chunks[0].PoolBytes);
        Assert.All(chunks.Skip(1), c => Assert.True(c.Cursor.IsEmpty && c.LayoutSalt == 0 && c.Users == 0 && c.PoolBytes == 0));
        Assert.True(chunks[^1].Last);
        Assert.All(chunks.SkipLast(1), c => Assert.False(c.Last));
        Assert.All(chunks, c => Assert.InRange(c.Filters.Sum(f => 1 + CodedOutputStream.ComputeMessageSize(f)), 1, chunkBytes));
        Assert.Equal(filters.Select(f => (f.UserId, Snapshot(f.Filter))), Reassemble(chunks));
    }

    [Theory]
    [InlineData(100, 1000)] // the framing grows by two bytes (lengths of 1 byte become 2): the data moves up
    [InlineData(200_000, 1000)] // it shrinks by two (3-byte lengths become 2): the data moves down
    [InlineData(1300, 40)] // same framing, another length
    public void A_filter_written_longer_or_shorter_than_its_estimate_is_framed_by_what_was_written(long estimate, int items)
    {
        // A filter that grew a layer between its estimate and its copy: the part must carry the bytes written, with
        // their true length.
        var filter = Filled(UserFilter.Create(items, BloomFilterOptions.Default), items, 1);
        Assert.NotEqual(estimate, filter.SnapshotLength);
        using var encoder = new SnapshotChunkEncoder(1 << 20, [], new SnapshotLayout(1, 1, 1));

        var length = encoder.TryAppend(77, filter, estimate);

        Assert.Equal(filter.SnapshotLength, length);
        var chunk = SnapshotChunk.Parser.ParseFrom(encoder.Finish(last: true, truncated: false).Span);
        var part = Assert.Single(chunk.Filters);
        Assert.Equal(77UL, part.UserId);
        Assert.Equal((ulong)length, part.TotalBytes);
        Assert.Equal(Snapshot(filter), part.Data.ToByteArray());
    }

    [Fact]
    public void A_filter_larger_than_the_room_left_is_refused_and_nothing_is_appended()
    {
        var small = UserFilter.Create(10, BloomFilterOptions.Default);
        var large = UserFilter.Create(5000, BloomFilterOptions.Default);
        using var encoder = new SnapshotChunkEncoder(4096, [], default);
        Assert.True(encoder.TryAppend(1, small, small.SnapshotLength) > 0);
        var before = encoder.PartBytes;

        Assert.Equal(-1, encoder.TryAppend(2, large, large.SnapshotLength));

        Assert.Equal(before, encoder.PartBytes);
        var chunk = SnapshotChunk.Parser.ParseFrom(encoder.Finish(last: false, truncated: false).Span);
        Assert.Equal([1UL], chunk.Filters.Select(f => f.UserId));
    }

    [Fact]
    public async Task The_sender_writes_encoded_chunks_that_parse_and_stop_before_the_byte_limit()
    {
        await using var cache = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options(budgetBytes: 64 << 20));
        var filters = Filters(seed: 5, count: 200);
        foreach (var (userId, filter) in filters)
        {
            cache.Filters.Install(userId, filter);
        }

        var request = new SnapshotRequest { MaxChunkBytes = 3000, MaxBytes = 150_000 };
        var sender = new SnapshotSender(SnapshotCursorSource.None);
        var encoded = new CollectingWriter();

        var sentEncoded = await sender.SendAsync(cache, request, encoded, CancellationToken.None);

        // Stopped before the first filter that would cross the byte limit.
        Assert.InRange(sentEncoded, 150_000 - filters.Max(f => f.Filter.SnapshotLength), 150_000);
        Assert.True(encoded.Chunks[^1].Last && encoded.Chunks[^1].Truncated);
        Assert.Equal(sentEncoded, Reassemble(encoded.Chunks).Sum(f => f.Snapshot.Length));
    }

    private static List<SnapshotChunk> Encode(SnapshotChunkEncoder encoder, List<(ulong UserId, UserFilter Filter)> filters, int chunkBytes)
    {
        var chunks = new List<SnapshotChunk>();
        void Flush(bool last)
        {
            chunks.Add(SnapshotChunk.Parser.ParseFrom(encoder.Finish(last, truncated: false).Span));
            encoder.Reset();
        }

        foreach (var (userId, filter) in filters)
        {
            if (encoder.TryAppend(userId, filter, filter.SnapshotLength) >= 0)
            {
                continue;
            }

            if (encoder.PartBytes > 0)
            {
                Flush(last: false);
                if (encoder.TryAppend(userId, filter, filter.SnapshotLength) >= 0)
                {
                    continue;
                }
            }

            // Larger than a whole chunk: in parts.
            var snapshot = Snapshot(filter);
            for (var offset = 0; offset < snapshot.Length;)
            {
                var taken = encoder.AppendPart(userId, snapshot.Length, offset, snapshot.AsSpan(offset));
                offset += taken;
                if (taken == 0 || offset < snapshot.Length)
                {
                    Flush(last: false);
                }
            }
        }

        Flush(last: true);
        Assert.True(chunkBytes >= 1 << 20 || chunks.Count > 1, "the filters should need several chunks");
        return chunks;
    }

    /// <summary>The filters back from their parts, checking that parts come in order, back to back, each saying the whole length.</summary>
    private static List<(ulong UserId, byte[] Snapshot)> Reassemble(List<SnapshotChunk> chunks)
    {
        var filters = new List<(ulong UserId, byte[] Snapshot)>();
        var pending = new ArrayBufferWriter<byte>();
        ulong pendingUser = 0;
        foreach (var part in chunks.SelectMany(c => c.Filters))
        {
            if (pending.WrittenCount == 0)
            {
                Assert.Equal(0UL, part.Offset);
                pendingUser = part.UserId;
            }
            else
            {
                Assert.Equal(pendingUser, part.UserId);
                Assert.Equal((ulong)pending.WrittenCount, part.Offset);
            }

            pending.Write(part.Data.Span);
            if ((ulong)pending.WrittenCount == part.TotalBytes)
            {
                filters.Add((part.UserId, pending.WrittenSpan.ToArray()));
                pending.Clear();
            }
        }

        Assert.Equal(0, pending.WrittenCount);
        return filters;
    }

    /// <summary>Filters of 10 to 20,000 items, some grown to several layers, for users 1..count.</summary>
    private static List<(ulong UserId, UserFilter Filter)> Filters(int seed, int count)
    {
        var random = new Random(seed);
        var filters = new List<(ulong, UserFilter)>();
        for (var u = 1; u <= count; u++)
        {
            var capacity = random.Next(4) == 0 ? random.Next(2000, 20_000) : random.Next(10, 200);
            var items = random.Next(3) == 0 ? capacity * 3 : capacity / 2;
            filters.Add(((ulong)u, Filled(UserFilter.Create(capacity, BloomFilterOptions.Default), items, u)));
        }

        return filters;
    }

    private static UserFilter Filled(UserFilter filter, int items, int salt)
    {
        for (var i = 0; i < items; i++)
        {
            filter.Add(1, (ulong)((salt * 1_000_000) + i));
        }

        return filter;
    }

    private static byte[] Snapshot(UserFilter filter)
    {
        var writer = new ArrayBufferWriter<byte>();
        filter.WriteSnapshot(writer, new byte[FilterSnapshotHeader.StampSize]);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>A Snapshot stream collecting the encoded chunks written to it, parsed by the generated parser.</summary>
    private sealed class CollectingWriter : IAsyncStreamWriter<EncodedSnapshotChunk>
    {
        public WriteOptions? WriteOptions { get; set; }

        public List<SnapshotChunk> Chunks { get; } = [];

        public Task WriteAsync(EncodedSnapshotChunk message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(EncodedSnapshotChunk message, CancellationToken cancellationToken)
        {
            Chunks.Add(SnapshotChunk.Parser.ParseFrom(message.Bytes.Span));
            return Task.CompletedTask;
        }
    }
}
