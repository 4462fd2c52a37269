using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Filters;
using ReadHistory.Core.Hashing;
using ReadHistory.Server.Cache;

namespace ReadHistory.Benchmarks.Fuzzing;

/// <summary>
/// Fuzzes the receiving side of warm start in process, as <c>WarmStarter</c> runs it: each chunk of a Snapshot stream
/// through <see cref="SnapshotChunkDecoder"/>, its parts through <see cref="WarmStartAssembler"/>, each completed filter
/// through <see cref="UserFilter.ReadSnapshot"/>. Seeds are streams <see cref="SnapshotChunkEncoder"/> writes for real
/// filters (small, large, grown to several layers; whole and split over chunks). Mutations: bytes of one chunk; a part's
/// fields set to edge values; a filter's header and layer descriptors damaged under a fixed CRC-32C (so the validation
/// past the checksum is reached); chunks dropped, repeated, swapped or taken from another stream. Documented failures
/// are <see cref="InvalidDataException"/> (decoder, assembler) and <see cref="FilterSnapshotException"/> (filter); any
/// other exception is a finding, and so is a chunk the decoder accepts but the generated protobuf parser rejects.
/// </summary>
internal sealed class SnapshotFuzzer
{
    /// <summary>The bit budget of a filter here (1 MiB): small enough that the memory bound below means something.</summary>
    public const long MaxBitBytes = 1 << 20;

    private static readonly MessageParser<SnapshotChunk> Generated = SnapshotChunk.Parser.WithDiscardUnknownFields(true);
    private static readonly BloomFilterOptions Options = new() { MaxBytes = MaxBitBytes };
    private static readonly long MaxFilterBytes = FilterSnapshot.MaxLength(MaxBitBytes);
    private readonly List<byte[][]> _corpus;
    private readonly byte[][] _chunks;
    private readonly Mutator _mutator;

    /// <summary>Builds the seed streams (deterministic: the filters hold fixed ids).</summary>
    public SnapshotFuzzer(int seed)
    {
        _mutator = new Mutator(seed);
        Seed = seed;
        var filters = new List<(ulong User, UserFilter Filter)>
        {
            (1, Filled(UserFilter.Create(10, Options), 5)),
            (2, Filled(UserFilter.Create(2_000, Options), 2_000)),
            (3, Filled(UserFilter.Create(100, Options), 1_500)), // grown: several layers
            (4, Filled(UserFilter.Create(20_000, Options), 20_000)),
            (ulong.MaxValue, Filled(UserFilter.Create(1, Options), 0)),
        };
        _corpus = [];
        foreach (var chunkBytes in new[] { SnapshotSender.MinChunkBytes, 512, 4096, 64 * 1024 })
        {
            _corpus.Add(Encode(filters, chunkBytes, cursor: [1, 2, 3, 4, 5, 6, 7, 8], salt: 0x1234_5678_9ABC_DEF0));
            _corpus.Add(Encode(filters[..2], chunkBytes, cursor: [], salt: 0));
            _corpus.Add(Encode([filters[2]], chunkBytes, cursor: [9], salt: 7));
        }

        _corpus.Add(Encode([], 4096, cursor: [1], salt: 1));
        _chunks = [.. _corpus.SelectMany(s => s)];
    }

    /// <summary>The seed of the mutations.</summary>
    public int Seed { get; }

    /// <summary>Seed streams.</summary>
    public int CorpusSize => _corpus.Count;

    /// <summary>Chunks in the seed streams.</summary>
    public int CorpusChunks => _chunks.Length;

    /// <summary>Runs <paramref name="inputs"/> streams; the first pass runs the seeds unmutated.</summary>
    public FuzzReport Run(long inputs)
    {
        var report = new FuzzReport("snapshot chunk decoder + warm-start assembler + filter snapshot", Seed, CorpusSize);
        long n = 0;
        return InProcessFuzzLoop.Run(report, inputs, () => Next(n++), Execute, Documented, ToReproducer, AllocationBound);
    }

    /// <summary>The exceptions the receiving side documents for a malformed stream.</summary>
    public static bool Documented(Exception e) => e is InvalidDataException or FilterSnapshotException;

    /// <summary>
    /// Bytes a stream may allocate: a few times its own length (the pooled chunk copy, the generated parser's copy, the
    /// loaded filters), a megabyte of fixed costs, and one filter's buffer of the size a part declares, which the
    /// assembler rents before the rest arrives once the size passed its limit (<see cref="MaxFilterBytes"/>; the pool
    /// rounds a rented size up to a power of two).
    /// </summary>
    public static long AllocationBound(byte[][] stream) =>
        (4L * stream.Sum(c => c.Length)) + (1 << 20) + (long)BitOperations.RoundUpToPowerOf2((ulong)MaxFilterBytes);

    /// <summary>Receives a stream as warm start does; the outcome's name.</summary>
    public static string Execute(byte[][] stream)
    {
        var decoder = new SnapshotChunkDecoder();
        using var assembler = new WarmStartAssembler(MaxFilterBytes);
        var stamp = new byte[FilterSnapshotHeader.StampSize];
        var installed = 0;
        foreach (var bytes in stream)
        {
            var message = decoder.Decode(new ReadOnlySequence<byte>(bytes));
            using var chunk = decoder.TakeDecoded();
            CheckAgainstGenerated(bytes, chunk);
            foreach (var part in chunk.Parts)
            {
                if (!assembler.TryAccept(part, out _, out var snapshot))
                {
                    continue;
                }

                var filter = UserFilter.ReadSnapshot(snapshot.Span, Options, stamp);
                _ = filter.MightContain(1, 42);
                assembler.Release();
                installed++;
            }

            if (message.Last)
            {
                if (assembler.HasPending)
                {
                    throw new InvalidDataException("Snapshot stream: the last chunk ended inside a filter; expected its remaining parts.");
                }

                return installed == 0 ? "completed-empty" : "completed";
            }
        }

        return "no-last-chunk";
    }

    /// <summary>A stream as bytes a regression test can replay: each chunk with a 4-byte little-endian length.</summary>
    public static byte[] ToReproducer(byte[][] stream)
    {
        var output = new List<byte>();
        foreach (var chunk in stream)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, chunk.Length);
            output.AddRange(length);
            output.AddRange(chunk);
        }

        return [.. output];
    }

    /// <summary>Reads a stream back from <see cref="ToReproducer"/>'s bytes.</summary>
    public static byte[][] FromReproducer(ReadOnlySpan<byte> bytes)
    {
        var chunks = new List<byte[]>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
            chunks.Add(bytes.Slice(at + 4, length).ToArray());
            at += 4 + length;
        }

        return [.. chunks];
    }

    // What the decoder accepted, the generated parser must accept too, with the same filters.
    private static void CheckAgainstGenerated(byte[] bytes, DecodedChunk chunk)
    {
        SnapshotChunk expected;
        try
        {
            expected = Generated.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new DecoderDisagreementException($"the decoder accepted a chunk the generated parser rejects: {e.Message}");
        }

        if (expected.Filters.Count != chunk.Parts.Count)
        {
            throw new DecoderDisagreementException($"the decoder found {chunk.Parts.Count} filters, the generated parser {expected.Filters.Count}");
        }

        for (var i = 0; i < expected.Filters.Count; i++)
        {
            var (want, got) = (expected.Filters[i], chunk.Parts[i]);
            if (want.UserId != got.UserId || want.TotalBytes != got.TotalBytes || want.Offset != got.Offset || !want.Data.Span.SequenceEqual(got.Data.Span))
            {
                throw new DecoderDisagreementException($"filter {i} differs from the generated parser's");
            }
        }
    }

    private static UserFilter Filled(UserFilter filter, int items)
    {
        for (var i = 1; i <= items; i++)
        {
            filter.Add((ushort)(i % 3), (ulong)i * 7919);
        }

        return filter;
    }

    // A Snapshot stream as SnapshotSender writes it: whole filters while they fit, a filter larger than a chunk in parts.
    private static byte[][] Encode(List<(ulong User, UserFilter Filter)> filters, int chunkBytes, byte[] cursor, ulong salt)
    {
        var chunks = new List<byte[]>();
        using var encoder = new SnapshotChunkEncoder(chunkBytes, cursor, new SnapshotLayout(salt, (ulong)filters.Count, 12345));
        void Flush(bool last)
        {
            chunks.Add(encoder.Finish(last, truncated: false).ToArray());
            encoder.Reset();
        }

        foreach (var (user, filter) in filters)
        {
            if (encoder.TryAppend(user, filter, filter.SnapshotLength) >= 0)
            {
                continue;
            }

            if (encoder.PartBytes > 0)
            {
                Flush(last: false);
                if (encoder.TryAppend(user, filter, filter.SnapshotLength) >= 0)
                {
                    continue;
                }
            }

            var writer = new ArrayBufferWriter<byte>();
            filter.WriteSnapshot(writer, SnapshotChunkEncoder.ZeroStamp);
            var snapshot = writer.WrittenSpan;
            for (var offset = 0; offset < snapshot.Length;)
            {
                var taken = encoder.AppendPart(user, snapshot.Length, offset, snapshot[offset..]);
                offset += taken;
                if (taken == 0 || offset < snapshot.Length)
                {
                    Flush(last: false);
                }
            }
        }

        Flush(last: true);
        return [.. chunks];
    }

    private byte[][] Next(long n)
    {
        if (n < _corpus.Count)
        {
            return _corpus[(int)n];
        }

        var random = _mutator.Random;
        var stream = (byte[][])_corpus[random.Next(_corpus.Count)].Clone();
        var at = random.Next(stream.Length);
        switch (random.Next(20))
        {
            case < 11:
                stream[at] = _mutator.Mutate(stream[at], _chunks[random.Next(_chunks.Length)]);
                break;
            case < 14:
                stream[at] = TamperPart(stream[at]) ?? stream[at];
                break;
            case < 18:
                stream[at] = DamageFilter(stream[at]) ?? _mutator.Mutate(stream[at], []);
                break;
            default:
                stream = Rearranged(stream, at);
                break;
        }

        return stream;
    }

    // A part's user, total or offset set to an edge value (the message re-encoded by the generated code).
    private byte[]? TamperPart(byte[] chunk)
    {
        var message = Generated.ParseFrom(chunk);
        if (message.Filters.Count == 0)
        {
            return null;
        }

        var random = _mutator.Random;
        var part = message.Filters[random.Next(message.Filters.Count)];
        ulong[] edges = [0, 1, 63, 64, 65, (ulong)MaxFilterBytes, (ulong)MaxFilterBytes + 1, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, long.MaxValue, ulong.MaxValue];
        var edge = random.Next(3) == 0 ? (ulong)random.NextInt64(0, 1 << 20) : edges[random.Next(edges.Length)];
        switch (random.Next(4))
        {
            case 0:
                part.TotalBytes = edge;
                break;
            case 1:
                part.Offset = edge;
                break;
            case 2:
                part.UserId = edge;
                break;
            default:
                part.Data = ByteString.CopyFrom(part.Data.Span[..random.Next(part.Data.Length + 1)]);
                break;
        }

        return message.ToByteArray();
    }

    // A whole filter's header or descriptors (or anything before its checksum) damaged, the CRC-32C then made to match.
    private byte[]? DamageFilter(byte[] chunk)
    {
        var message = Generated.ParseFrom(chunk);
        var whole = message.Filters.Where(f => f.Offset == 0 && (ulong)f.Data.Length == f.TotalBytes && f.Data.Length > FilterSnapshotHeader.Size).ToList();
        if (whole.Count == 0)
        {
            return null;
        }

        var random = _mutator.Random;
        var part = whole[random.Next(whole.Count)];
        var data = part.Data.ToByteArray();
        var headEnd = Math.Min(data.Length - FilterSnapshot.ChecksumSize, FilterSnapshotHeader.Size + (BloomFilterOptions.MaxLayers * 32));
        for (var i = 1 + random.Next(3); i > 0; i--)
        {
            _mutator.MutateInPlace(data.AsSpan(0, random.Next(4) == 0 ? data.Length - FilterSnapshot.ChecksumSize : headEnd), 0);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - FilterSnapshot.ChecksumSize), Crc32C.Compute(data.AsSpan(0, data.Length - FilterSnapshot.ChecksumSize)));
        part.Data = ByteString.CopyFrom(data);
        part.TotalBytes = (ulong)data.Length;
        return message.ToByteArray();
    }

    private byte[][] Rearranged(byte[][] stream, int at)
    {
        var random = _mutator.Random;
        var list = stream.ToList();
        switch (random.Next(4))
        {
            case 0 when list.Count > 1:
                list.RemoveAt(at);
                break;
            case 1:
                list.Insert(at, list[at]);
                break;
            case 2 when list.Count > 1:
                var other = random.Next(list.Count);
                (list[at], list[other]) = (list[other], list[at]);
                break;
            default:
                list[at] = _chunks[random.Next(_chunks.Length)];
                break;
        }

        return [.. list];
    }
}

/// <summary>The hand-written decoder and the generated protobuf parser disagree about a chunk (a finding, never documented).</summary>
internal sealed class DecoderDisagreementException(string message) : Exception(message);
