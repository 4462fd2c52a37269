using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using ReadHistory.Api.V1;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Benchmarks.Rpc;

/// <summary>
/// The gRPC framing codec on a Check request of 400 fixed64 ids (3.2 KB): prefix + serialize into a reused buffer,
/// and split + parse back, directly and through a PipeReader as the server reads it; gzip both ways for contrast.
/// </summary>
public class FramingBenchmarks
{
    private const int Max = 4 * 1024 * 1024;
    private readonly ArrayBufferWriter<byte> _writer = new(8192);
    private CheckRequest _request = null!;
    private int _size;
    private ReadOnlySequence<byte> _framed;
    private ReadOnlySequence<byte> _gzipFramed;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _request = new CheckRequest { UserId = 123_456_789, ContentType = 1, SessionId = "session-1" };
        for (var i = 0; i < 400; i++)
        {
            _request.ContentIds.Add((ulong)random.NextInt64(1, long.MaxValue));
        }

        _size = _request.CalculateSize();
        var writer = new ArrayBufferWriter<byte>();
        GrpcFraming.WriteMessage(writer, _request, _size);
        _framed = new ReadOnlySequence<byte>(writer.WrittenMemory.ToArray());
        var gzip = new ArrayBufferWriter<byte>();
        MessageCompression.WriteCompressedMessage(gzip, _request, _size, CompressionLevel.Fastest);
        _gzipFramed = new ReadOnlySequence<byte>(gzip.WrittenMemory.ToArray());
    }

    [Benchmark(Description = "encode (size + prefix + serialize)")]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        GrpcFraming.WriteMessage(_writer, _request, _request.CalculateSize());
        return _writer.WrittenCount;
    }

    [Benchmark(Description = "decode (split + parse)")]
    public int Decode()
    {
        var buffer = _framed;
        GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload);
        return MessageDecoder.Decode(CheckRequest.Parser, header, payload, null, Max).ContentIds.Count;
    }

    [Benchmark(Description = "decode via PipeReader (server path)")]
    public int DecodeFromPipe()
    {
        var reader = PipeReader.Create(_framed);
        var message = GrpcMessageReading.ReadMessageAsync(reader, CheckRequest.Parser, Max, null, default).AsTask().GetAwaiter().GetResult();
        return message!.ContentIds.Count;
    }

    [Benchmark(Description = "encode gzip")]
    public int EncodeGzip()
    {
        _writer.ResetWrittenCount();
        MessageCompression.WriteCompressedMessage(_writer, _request, _size, CompressionLevel.Fastest);
        return _writer.WrittenCount;
    }

    [Benchmark(Description = "decode gzip")]
    public int DecodeGzip()
    {
        var buffer = _gzipFramed;
        GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload);
        return MessageDecoder.Decode(CheckRequest.Parser, header, payload, "gzip", Max).ContentIds.Count;
    }
}
