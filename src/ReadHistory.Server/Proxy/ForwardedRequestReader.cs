using System.Buffers;
using Google.Protobuf;
using ReadHistory.Api.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// Reads the routing and validation fields of a public request from its bytes with the generated code's semantics
/// (last value wins, a known field number with another wire type is an unknown field, packed and unpacked ids both
/// count). Whatever this reader does not follow goes to the generated parser: its exception is the client's INTERNAL
/// "failed to deserialize the request: …", as on the decoding path; if it accepts the bytes, its message is used.
/// </summary>
internal static partial class ForwardedRequestReader
{
    // CheckRequest / MarkReadRequest tags (field number << 3 | wire type).
    private const uint UserIdTag = (1 << 3) | 1;
    private const uint ContentTypeTag = 2 << 3;
    private const uint IdsPackedTag = (3 << 3) | 2;
    private const uint IdsTag = (3 << 3) | 1;
    private const uint ItemsTag = (3 << 3) | 2;
    private const uint SessionTag = (4 << 3) | 2;
    private const uint TenantTag = (5 << 3) | 2;

    /// <summary>A Check or Filter request: copied, its fields read.</summary>
    public static ForwardedRequest ReadCheck(ReadOnlySequence<byte> payload) => Read(payload, ScanCheck, static request =>
    {
        var decoded = Decode(CheckRequest.Parser, request);
        request.UserId = decoded.UserId;
        request.ContentType = decoded.ContentType;
        request.Count = decoded.ContentIds.Count;
        request.FirstZeroId = decoded.ContentIds.IndexOf(0);
        request.SessionId = decoded.SessionId;
        request.Tenant = decoded.Tenant;
        request.Decoded = decoded;
    });

    /// <summary>A MarkRead request: copied, its fields read (items are checked by <see cref="ItemsError"/>).</summary>
    public static ForwardedRequest ReadMarkRead(ReadOnlySequence<byte> payload) => Read(payload, ScanMarkRead, static request =>
    {
        var decoded = Decode(MarkReadRequest.Parser, request);
        request.UserId = decoded.UserId;
        request.ContentType = decoded.ContentType;
        request.Count = decoded.Items.Count;
        request.SessionId = decoded.SessionId;
        request.Tenant = decoded.Tenant;
        request.Decoded = decoded;
    });

    /// <summary>The first item <paramref name="check"/> refuses (index, content id, read_at_ms), or null.</summary>
    public static string? ItemsError<TState>(ForwardedRequest request, TState state, Func<TState, int, ulong, long, string?> check)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(check);
        if (request.Decoded is MarkReadRequest decoded)
        {
            for (var i = 0; i < decoded.Items.Count; i++)
            {
                if (check(state, i, decoded.Items[i].ContentId, decoded.Items[i].ReadAtMs) is { } error)
                {
                    return error;
                }
            }

            return null;
        }

        var input = Input(request);
        var item = new ReadItem();
        var index = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag != ItemsTag)
            {
                input.SkipLastField();
                continue;
            }

            ReadItem(input, item);
            if (check(state, index++, item.ContentId, item.ReadAtMs) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    // Copies the payload and reads its fields with scan; when scan cannot follow the bytes (false, or a malformed field),
    // decode takes them from the generated parser (which throws the client's INTERNAL when it refuses them too).
    private static ForwardedRequest Read(ReadOnlySequence<byte> payload, Func<ForwardedRequest, bool> scan, Action<ForwardedRequest> decode)
    {
        var request = ForwardedRequest.Copy(payload);
        bool read;
        try
        {
            read = scan(request);
        }
        catch (InvalidProtocolBufferException)
        {
            read = false;
        }

        if (!read)
        {
            decode(request);
        }

        return request;
    }

    // False (or an exception) when the bytes need the generated parser's verdict.
    private static bool ScanCheck(ForwardedRequest request)
    {
        var (buffer, offset, length) = request.PayloadSegment;
        if (!TryScanCheck(buffer, offset, length, out var fields))
        {
            return false;
        }

        request.UserId = fields.UserId;
        request.ContentType = fields.ContentType;
        request.Count = fields.Count;
        request.FirstZeroId = fields.FirstZeroId;
        request.SessionId = fields.SessionId;
        request.Tenant = fields.Tenant;
        return true;
    }

    /// <summary>
    /// The fields of the CheckRequest in <paramref name="length"/> bytes of <paramref name="buffer"/> from
    /// <paramref name="offset"/> (a whole request, or a BatchCheck entry in place). False, or an
    /// <see cref="InvalidProtocolBufferException"/>, when the bytes need the generated parser's verdict.
    /// </summary>
    internal static bool TryScanCheck(byte[] buffer, int offset, int length, out CheckFields fields)
    {
        fields = new CheckFields();
        var input = new CodedInputStream(buffer, offset, length);
        var count = 0;
        var firstZero = -1;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (tag)
            {
                case UserIdTag:
                    fields.UserId = input.ReadFixed64();
                    break;
                case ContentTypeTag:
                    fields.ContentType = input.ReadUInt32();
                    break;
                case IdsPackedTag:
                    var ids = input.ReadLength();
                    if (ids % 8 != 0)
                    {
                        // The last id would cross the field's end: the generated parser's case (it throws).
                        return false;
                    }

                    var end = input.Position + ids;
                    while (input.Position < end)
                    {
                        if (input.ReadFixed64() == 0 && firstZero < 0)
                        {
                            firstZero = count;
                        }

                        count++;
                    }

                    break;
                case IdsTag:
                    if (input.ReadFixed64() == 0 && firstZero < 0)
                    {
                        firstZero = count;
                    }

                    count++;
                    break;
                case SessionTag:
                    fields.SessionId = input.ReadString();
                    break;
                case TenantTag:
                    fields.Tenant = input.ReadString();
                    break;
                default:
                    if (!Skip(input, tag))
                    {
                        return false;
                    }

                    break;
            }
        }

        fields.Count = count;
        fields.FirstZeroId = firstZero;
        return true;
    }

    private static bool ScanMarkRead(ForwardedRequest request)
    {
        var input = Input(request);
        var item = new ReadItem();
        var count = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (tag)
            {
                case UserIdTag:
                    request.UserId = input.ReadFixed64();
                    break;
                case ContentTypeTag:
                    request.ContentType = input.ReadUInt32();
                    break;
                case ItemsTag:
                    // Parsed, not skipped: a malformed item must fail here, as the generated parser fails the call.
                    ReadItem(input, item);
                    count++;
                    break;
                case SessionTag:
                    request.SessionId = input.ReadString();
                    break;
                case TenantTag:
                    request.Tenant = input.ReadString();
                    break;
                default:
                    if (!Skip(input, tag))
                    {
                        return false;
                    }

                    break;
            }
        }

        request.Count = count;
        return true;
    }

    // An unknown field is skipped when it is a plain scalar or bytes; groups and invalid wire types (which the
    // generated parser keeps or refuses by rules of its own) go to the generated parser.
    private static bool Skip(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagWireType(tag))
        {
            case WireFormat.WireType.Varint:
            case WireFormat.WireType.Fixed64:
            case WireFormat.WireType.LengthDelimited:
            case WireFormat.WireType.Fixed32:
                input.SkipLastField();
                return true;
            default:
                return false;
        }
    }

    // One ReadItem per call, reused for every item: the generated code merges an item's fields (last wins, limits kept).
    private static void ReadItem(CodedInputStream input, ReadItem item)
    {
        item.ContentId = 0;
        item.ReadAtMs = 0;
        input.ReadMessage(item);
    }

    private static CodedInputStream Input(ForwardedRequest request)
    {
        // CodedInputStream reads a byte[] in place; the payload is a slice of the pooled buffer.
        var (buffer, offset, length) = request.PayloadSegment;
        return new CodedInputStream(buffer, offset, length);
    }

    // The generated parser decides about bytes this reader did not follow: its exception goes to the client.
    private static T Decode<T>(MessageParser<T> parser, ForwardedRequest request)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(request.Payload);
        }
        catch (InvalidProtocolBufferException)
        {
            request.Release();
            throw;
        }
    }
}
