using ReadHistory.Rpc.Internal;
using Xunit;

namespace ReadHistory.Rpc.Tests.Unit;

public class GrpcTimeoutTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("90m", 900_000L)]
    [InlineData("5u", 50L)]
    [InlineData("100n", 1L)]
    [InlineData("1n", 1L)]
    [InlineData("250n", 3L)]
    [InlineData("0S", 0L)]
    [InlineData("00000001m", 10_000L)]
    [InlineData("99999999H", 99_999_999L * 36_000_000_000L)]
    public void Every_unit_parses(string value, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(value, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("1")]
    [InlineData("1s")]
    [InlineData("1x")]
    [InlineData("-1S")]
    [InlineData("+1S")]
    [InlineData(" 1S")]
    [InlineData("1S ")]
    [InlineData("1.5S")]
    [InlineData("123456789S")]
    [InlineData("1HH")]
    public void Malformed_values_are_refused(string value)
    {
        Assert.False(GrpcTimeout.TryParse(value, out _));
    }

    [Theory]
    [InlineData(1L, "100n")]
    [InlineData(10_000L, "1000000n")]
    [InlineData(30_000_000L, "3000000u")]
    [InlineData(900_000_000L, "90000000u")]
    [InlineData(9_000_000_000L, "900000m")]
    [InlineData(0L, "1n")]
    [InlineData(-5L, "1n")]
    public void Formatting_picks_the_finest_unit_that_fits_eight_digits(long ticks, string expected)
    {
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(12_345L)]
    [InlineData(999_999_999L)]
    [InlineData(36_000_000_000_000L)]
    [InlineData(long.MaxValue / 2)]
    public void A_formatted_timeout_parses_back_to_no_less(long ticks)
    {
        var formatted = GrpcTimeout.Format(TimeSpan.FromTicks(ticks));

        Assert.True(formatted.Length <= 9, formatted);
        Assert.True(GrpcTimeout.TryParse(formatted, out var parsed));
        Assert.True(parsed.Ticks >= Math.Min(ticks, 99_999_999L * TimeSpan.TicksPerHour), formatted);
    }
}
