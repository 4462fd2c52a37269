using System.Buffers;
using ReadHistory.Api.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// A cache node's BatchCheckResponse kept as its bytes in a pooled buffer, its <c>results</c> located so each can be
/// relayed to the client as it came (<see cref="ForwardedBatch.WriteAnswerTo"/>). The answer's source for the passive
/// freshness mark is read while locating them: the first result whose response came from memory says it, as the
/// decoding path reads it.
/// <code>
///   BatchCheckResponse: [ 0x0A len UserCheckResult ]*
///   UserCheckResult:    [ 0x08 status_code ][ 0x12 len status_message ][ 0x1A len CheckResponse ]
///   CheckResponse:      [ 0x0A len read_bitmap ][ 0x10 unread_count ][ 0x18 source ]
/// </code>
/// Unknown fields are skipped; a group or a truncated field fails the deserializer (a node never sends them).
/// </summary>
internal sealed class RelayedBatch
{
    private const string Root = "BatchCheckResponse";
    private readonly int _length;
    private byte[]? _buffer;
    private (int Start, int Length)[] _results = new (int, int)[16];

    private RelayedBatch(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    /// <summary>The number of results in the answer.</summary>
    public int Count { get; private set; }

    /// <summary>The first result's source that is MEMORY or MEMORY_STALE; Unspecified when none is.</summary>
    public AnswerSource Source { get; private set; }

    /// <summary>Result <paramref name="index"/>'s UserCheckResult bytes.</summary>
    public ReadOnlySpan<byte> Result(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        var (start, length) = _results[index];
        return (_buffer ?? throw new ObjectDisposedException(nameof(RelayedBatch))).AsSpan(start, length);
    }

    /// <summary>Copies a received payload (valid only during the deserializer's call) into a pooled buffer and locates its results.</summary>
    public static RelayedBatch Copy(ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        payload.CopyTo(buffer);
        var answer = new RelayedBatch(buffer, length);
        answer.Locate();
        return answer;
    }

    /// <summary>Returns the buffer to the pool (once the client's answer is written; a second call does nothing).</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Locate()
    {
        var data = _buffer.AsSpan(0, _length);
        var reader = new ProtoWireReader(data, 0, Root, Root);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field != 1 || wire != ProtoWireReader.WireLength)
            {
                reader.Skip(field, wire);
                continue;
            }

            var result = reader.ReadLengthDelimited("results");
            if (Count == _results.Length)
            {
                Array.Resize(ref _results, Count * 2);
            }

            _results[Count++] = (reader.Offset - result.Length, result.Length);
            if (Source == AnswerSource.Unspecified && SourceOf(result) is (AnswerSource.Memory or AnswerSource.MemoryStale) and var source)
            {
                Source = source;
            }
        }
    }

    // A result's response source: every occurrence of field 3 is merged into one CheckResponse, so the last source read wins.
    private static AnswerSource SourceOf(ReadOnlySpan<byte> result)
    {
        var reader = new ProtoWireReader(result, 0, Root, "UserCheckResult");
        ulong source = 0;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field != 3 || wire != ProtoWireReader.WireLength)
            {
                reader.Skip(field, wire);
                continue;
            }

            var response = new ProtoWireReader(reader.ReadLengthDelimited("response"), 0, Root, "CheckResponse");
            while (!response.AtEnd)
            {
                var (inner, innerWire) = response.ReadTag();
                if (inner == 3 && innerWire == ProtoWireReader.WireVarint)
                {
                    source = response.ReadVarint("source");
                }
                else
                {
                    response.Skip(inner, innerWire);
                }
            }
        }

        return (AnswerSource)(int)source;
    }
}
