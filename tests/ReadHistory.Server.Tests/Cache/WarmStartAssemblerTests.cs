using ReadHistory.Server.Cache;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>The warm-start part assembler without I/O: hostile parts rejected, parts joined back to back.</summary>
public sealed class WarmStartAssemblerTests
{
    [Theory]
    [InlineData(10UL, 5UL, 10, "expected the first part (offset 0)")]
    [InlineData(0UL, 0UL, 0, "declares 0 bytes")]
    [InlineData(1UL << 40, 0UL, 10, "declares 1099511627776 bytes; expected 1 to 1048576")]
    [InlineData(10UL, 0UL, 11, "a part of 11 bytes exceeds its filter's declared 10 bytes")]
    public void The_assembler_rejects_a_hostile_first_part(ulong total, ulong offset, int length, string expected)
    {
        using var assembler = new WarmStartAssembler(maxFilterBytes: 1 << 20);

        var error = Assert.Throws<InvalidDataException>(() => assembler.TryAccept(Part(5, total, offset, length), out _, out _));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_assembler_rejects_a_part_of_another_user_in_the_middle_of_a_filter()
    {
        using var assembler = new WarmStartAssembler(maxFilterBytes: 1 << 20);
        Assert.False(assembler.TryAccept(Part(1, total: 10, offset: 0, length: 4), out _, out _));

        var error = Assert.Throws<InvalidDataException>(() => assembler.TryAccept(Part(2, total: 10, offset: 0, length: 4), out _, out _));

        Assert.Contains("expected user 1's filter at offset 4 of 10, got user 2 at offset 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_assembler_joins_parts_back_to_back()
    {
        using var assembler = new WarmStartAssembler(maxFilterBytes: 1 << 20);
        var first = Part(9, total: 6, offset: 0, length: 4, fill: 1);
        var second = Part(9, total: 6, offset: 4, length: 2, fill: 2);

        Assert.False(assembler.TryAccept(first, out _, out _));
        Assert.True(assembler.TryAccept(second, out var user, out var snapshot));

        Assert.Equal(9UL, user);
        Assert.Equal(new byte[] { 1, 1, 1, 1, 2, 2 }, snapshot.ToArray());
        assembler.Release();
        Assert.False(assembler.HasPending);
    }

    private static SnapshotPart Part(ulong user, ulong total, ulong offset, int length, byte fill = 0) =>
        new(user, total, offset, Enumerable.Repeat(fill, length).ToArray());
}
