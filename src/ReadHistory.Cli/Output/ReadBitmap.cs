using Google.Protobuf;
using Grpc.Core;

namespace ReadHistory.Cli.Output;

/// <summary>Reads CheckResponse.read_bitmap: bit i (byte i / 8, bit i % 8, least significant first) answers content_ids[i].</summary>
internal static class ReadBitmap
{
    /// <summary>Whether content_ids[index] is marked read: bit index % 8 (least significant first) of byte index / 8.</summary>
    public static bool IsRead(ByteString bitmap, int index) => (bitmap.Span[index >> 3] & (1 << (index & 7))) != 0;

    /// <summary>Refuses a bitmap too short for the ids asked, which would otherwise read as "unread".</summary>
    public static void EnsureCovers(ByteString bitmap, int idCount)
    {
        var needed = (idCount + 7) / 8;
        if (bitmap.Length < needed)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the server answered a read_bitmap of {bitmap.Length} bytes for {idCount} ids ({needed} needed)"));
        }
    }
}
