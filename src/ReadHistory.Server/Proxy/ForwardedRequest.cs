using System.Buffers;
using Google.Protobuf;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// A public Check / Filter / MarkRead request kept as the client's bytes, in a pooled buffer laid out so the internal
/// request (CacheCheckRequest / CacheMarkReadRequest: field 1 the public message, field 2 passthrough, field 3 of
/// CacheMarkReadRequest until_peers_applied) is a slice of it:
/// <code>
///   [ reserve (6) | 0x0A len(varint) right-aligned ][ client's bytes ][ 0x18 0x01 | 0x10 0x01 ]
///                 ^ InternalStart                                       ^ moved      ^ passthrough
/// </code>
/// The tail is written once and never changes (an abandoned attempt may still be copying the buffer): a moved write
/// sends the first pair, a passthrough request both (a node ignores until_peers_applied in passthrough), others none.
/// Only the routing and validation fields are read (<see cref="ForwardedRequestReader"/>); the ids stay bytes.
/// </summary>
internal sealed class ForwardedRequest
{
    // Tag (1 byte) and a varint length (at most 5 bytes for a length below 2^32).
    private const int Reserve = 6;
    // until_peers_applied = true (field 3, varint), then passthrough = true (field 2, varint).
    private static readonly byte[] Tail = [0x18, 0x01, 0x10, 0x01];

    private byte[]? _buffer;
    private int _internalStart;
    private int _payloadLength;
    // The handler's reference plus one per Exchange stream queue holding the request.
    private int _references = 1;

    private ForwardedRequest(byte[] buffer, int payloadLength)
    {
        _buffer = buffer;
        _payloadLength = payloadLength;
        // The envelope's field 1 header, right-aligned before the payload.
        var header = (Span<byte>)stackalloc byte[Reserve];
        header[0] = 0x0A;
        var n = 1;
        var value = (uint)payloadLength;
        while (value >= 0x80)
        {
            header[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        header[n++] = (byte)value;
        _internalStart = Reserve - n;
        header[..n].CopyTo(buffer.AsSpan(_internalStart));
        Tail.CopyTo(buffer.AsSpan(Reserve + payloadLength));
    }

    /// <summary>The user (field 1).</summary>
    public ulong UserId { get; internal set; }

    /// <summary>The content type (field 2).</summary>
    public uint ContentType { get; internal set; }

    /// <summary>Content ids (Check, Filter) or items (MarkRead) in the request.</summary>
    public int Count { get; internal set; }

    /// <summary>Check / Filter: the index of the first id 0, or -1.</summary>
    public int FirstZeroId { get; internal set; } = -1;

    /// <summary>The session (field 4), empty when absent.</summary>
    public string SessionId { get; internal set; } = string.Empty;

    /// <summary>The tenant tag (field 5), empty when absent.</summary>
    public string Tenant { get; internal set; } = string.Empty;

    /// <summary>
    /// The decoded request when the reader met something it does not follow (a group, a malformed field) and the
    /// generated parser accepted the bytes anyway; validation then runs on it. Null on the usual path.
    /// </summary>
    public IMessage? Decoded { get; internal set; }

    /// <summary>Whether the request goes to a node of another slot (field 2 of the envelope).</summary>
    public bool Passthrough { get; set; }

    /// <summary>Whether a MarkRead goes to a replica other than the session's own after it failed (field 3, until_peers_applied).</summary>
    public bool Moved { get; set; }

    /// <summary>The client's bytes.</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(Reserve, _payloadLength);

    /// <summary>The client's bytes as an array segment (CodedInputStream reads arrays in place).</summary>
    public (byte[] Buffer, int Offset, int Length) PayloadSegment => (_buffer ?? throw new ObjectDisposedException(nameof(ForwardedRequest)), Reserve, _payloadLength);

    /// <summary>The internal request as sent now: the envelope around the client's bytes, with the flags that are set.</summary>
    public ReadOnlySpan<byte> Internal => _buffer.AsSpan(_internalStart, Reserve - _internalStart + _payloadLength + (Passthrough ? 4 : Moved ? 2 : 0));

    /// <summary>
    /// The first <paramref name="length"/> bytes of the internal request: <see cref="Internal"/> as it was when its
    /// length was taken (the flags only change the length; the bytes never change while a reference is held).
    /// </summary>
    public ReadOnlySpan<byte> InternalPrefix(int length) =>
        (_buffer ?? throw new ObjectDisposedException(nameof(ForwardedRequest))).AsSpan(_internalStart, length);

    /// <summary>Copies a received payload into a pooled buffer with room for the envelope.</summary>
    public static ForwardedRequest Copy(ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Reserve + length + Tail.Length);
        payload.CopyTo(buffer.AsSpan(Reserve));
        return new ForwardedRequest(buffer, length);
    }

    /// <summary>
    /// Takes one more reference to the buffer, for a writer that copies it later (an Exchange stream's queue); each
    /// reference is given back by <see cref="Release"/>.
    /// </summary>
    public void Retain()
    {
        if (Interlocked.Increment(ref _references) <= 1 || _buffer is null)
        {
            throw new ObjectDisposedException(nameof(ForwardedRequest), "the request's buffer was already returned");
        }
    }

    /// <summary>
    /// Gives back one reference; the last returns the buffer to the pool. The handler's own reference is given back only
    /// once a node answered (it had read the whole request, so no unary attempt's serializer can still be copying from
    /// it; an Exchange stream's writer holds a reference of its own until its copy is written) or when nothing was sent;
    /// after a failed call the buffer is left to the collector instead.
    /// </summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }

        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes <see cref="Internal"/> into a serialization context.</summary>
    internal void WriteTo(Grpc.Core.SerializationContext context)
    {
        var bytes = Internal;
        context.SetPayloadLength(bytes.Length);
        context.GetBufferWriter().Write(bytes);
        context.Complete();
    }
}
