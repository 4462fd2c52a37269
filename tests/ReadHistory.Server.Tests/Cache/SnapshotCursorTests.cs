using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class SnapshotCursorTests
{
    [Theory]
    [InlineData(1UL, "0-0")]
    [InlineData(0xfedcba9876543210UL, "1763800000000-7")]
    [InlineData(ulong.MaxValue, "18446744073709551615-18446744073709551615")]
    public void A_cursor_survives_encoding(ulong epoch, string entryId)
    {
        var cursor = new StreamCursor(epoch, entryId);

        var bytes = SnapshotCursor.Encode(cursor);

        Assert.Equal(SnapshotCursor.Length, bytes.Length);
        Assert.Equal(cursor, SnapshotCursor.Decode(bytes));
    }

    [Theory]
    [InlineData(new byte[] { }, "expected 25 bytes, got 0")]
    [InlineData(new byte[] { 1, 2, 3 }, "expected 25 bytes, got 3")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "expected version 1, got 2")]
    public void A_malformed_cursor_is_rejected_saying_what_was_expected(byte[] bytes, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => SnapshotCursor.Decode(bytes));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
