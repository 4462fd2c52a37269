using System.Buffers;
using Google.Protobuf;
using ReadHistory.Api.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>A public BatchCheck read from its bytes: each entry located and read in place by the Check path's scan.</summary>
internal static partial class ForwardedRequestReader
{
    // BatchCheckRequest tags.
    private const uint EntryTag = (1 << 3) | 2;
    private const uint BatchTenantTag = (2 << 3) | 2;

    /// <summary>
    /// A BatchCheck request: copied, its entries located and their fields read. When the bytes hold something the
    /// scan does not follow, the generated parser decides: its exception is the client's, or its message is
    /// <see cref="ForwardedBatch.Decoded"/>.
    /// </summary>
    public static ForwardedBatch ReadBatch(ReadOnlySequence<byte> payload)
    {
        var batch = ForwardedBatch.Copy(payload);
        bool read;
        try
        {
            read = ScanBatch(batch);
        }
        catch (InvalidProtocolBufferException)
        {
            read = false;
        }

        if (!read)
        {
            batch.ClearEntries();
            try
            {
                var (buffer, offset, length) = batch.PayloadSegment;
                batch.Decoded = BatchCheckRequest.Parser.ParseFrom(buffer.AsSpan(offset, length));
            }
            finally
            {
                // The decoding path does not need the bytes, and a refused request is done with them.
                batch.Release();
            }
        }

        return batch;
    }

    private static bool ScanBatch(ForwardedBatch batch)
    {
        var (buffer, offset, length) = batch.PayloadSegment;
        var input = new CodedInputStream(buffer, offset, length);
        var origin = input.Position;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (tag)
            {
                case EntryTag:
                    // Where the entry's length starts; skipping the field fails as the parser does on a truncated one.
                    var at = (int)(input.Position - origin);
                    input.SkipLastField();
                    var prefix = new ProtoWireReader(buffer.AsSpan(offset, length), at, "BatchCheckRequest", "requests");
                    var entryLength = (int)prefix.ReadVarint("requests");
                    if (!TryScanCheck(buffer, offset + prefix.Offset, entryLength, out var fields))
                    {
                        return false;
                    }

                    batch.Add(prefix.Offset, entryLength, fields);
                    break;
                case BatchTenantTag:
                    batch.Tenant = input.ReadString();
                    break;
                default:
                    if (!Skip(input, tag))
                    {
                        return false;
                    }

                    break;
            }
        }

        return true;
    }
}
