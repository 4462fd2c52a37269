using System.Buffers;
using Grpc.Core;
using ReadHistory.Api.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// A cache node's answer (a public CheckResponse, FilterResponse or MarkReadResponse: the internal API answers with the
/// public messages) kept as its bytes in a pooled buffer, relayed to the client as they are. The buffer goes back to
/// the pool once the bytes are written into the client's response.
/// </summary>
internal sealed class RelayedAnswer
{
    private byte[]? _buffer;

    private RelayedAnswer(byte[] buffer, int length, int sourceField)
    {
        _buffer = buffer;
        Length = length;
        SourceField = sourceField;
    }

    /// <summary>The number of the answer's AnswerSource field (0: the answer has none).</summary>
    public int SourceField { get; }

    /// <summary>The answer's length in bytes.</summary>
    public int Length { get; }

    /// <summary>The answer's bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Length);

    /// <summary>Copies a received payload (valid only during the deserializer's call) into a pooled buffer.</summary>
    public static RelayedAnswer Copy(ReadOnlySequence<byte> payload, int sourceField)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        payload.CopyTo(buffer);
        return new RelayedAnswer(buffer, length, sourceField);
    }

    /// <summary>Copies an answer found inside a larger message (an Exchange stream's) into a pooled buffer.</summary>
    public static RelayedAnswer Copy(ReadOnlySpan<byte> answer, int sourceField)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(answer.Length);
        answer.CopyTo(buffer);
        return new RelayedAnswer(buffer, answer.Length, sourceField);
    }

    /// <summary>Returns the buffer to the pool without relaying the answer (nobody waits for it any more).</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the bytes into the client's response and returns the buffer to the pool.</summary>
    public void WriteTo(SerializationContext context)
    {
        var buffer = Interlocked.Exchange(ref _buffer, null) ?? throw new InvalidOperationException("the answer was already relayed");
        context.SetPayloadLength(Length);
        context.GetBufferWriter().Write(buffer.AsSpan(0, Length));
        context.Complete();
        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>The answer's source (Unspecified when the answer type has none or does not say).</summary>
    public AnswerSource Source => SourceField == 0 ? AnswerSource.Unspecified : (AnswerSource)(int)Peek(SourceField, 0).Varint;

    /// <summary>
    /// The varint of top-level field <paramref name="field"/> (last occurrence wins, as a parser reads it) and the
    /// length of length-delimited field <paramref name="lengthField"/>; 0 / -1 when absent. Used for the answer's
    /// source (passive freshness) and the bitmap's length, without decoding the rest.
    /// </summary>
    public (ulong Varint, int Length) Peek(int field, int lengthField)
    {
        var varintTag = (uint)field << 3;
        var lengthTag = ((uint)lengthField << 3) | 2;
        var input = new Google.Protobuf.CodedInputStream(_buffer ?? throw new ObjectDisposedException(nameof(RelayedAnswer)), 0, Length);
        ulong varint = 0;
        var length = -1;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag == varintTag)
            {
                varint = input.ReadUInt64();
            }
            else if (tag == lengthTag)
            {
                var before = input.Position;
                input.SkipLastField();
                length = LengthOf((int)(input.Position - before));
            }
            else
            {
                input.SkipLastField();
            }
        }

        return (varint, length);
    }

    // The length of a field whose length prefix and content took <paramref name="total"/> bytes.
    private static int LengthOf(int total)
    {
        for (var prefix = 1; prefix <= 5; prefix++)
        {
            if (Google.Protobuf.CodedOutputStream.ComputeLengthSize(total - prefix) == prefix)
            {
                return total - prefix;
            }
        }

        return -1;
    }
}
