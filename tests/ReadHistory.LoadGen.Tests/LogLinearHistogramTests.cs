using Xunit;
using ReadHistory.LoadGen.Measure;

namespace ReadHistory.LoadGen.Tests;

public sealed class LogLinearHistogramTests
{
    [Fact]
    public void Every_value_from_one_to_a_trillion_is_reported_within_the_relative_error_bound()
    {
        var random = new Random(7);
        for (var i = 0; i < 200_000; i++)
        {
            var value = (long)Math.Pow(10, random.NextDouble() * 12);
            var histogram = new LogLinearHistogram(7);
            histogram.Record(value);
            histogram.Record(value); // min = max = value would make the answer exact; check the bucket itself
            var (low, high) = histogram.BoundsOf(histogram.IndexOf(value));
            Assert.InRange(value, low, high);
            var mid = low + ((high - low) / 2);
            Assert.True(Math.Abs(mid - value) <= histogram.RelativeError * value, $"value {value} bucket [{low}, {high}]");
        }
    }

    [Fact]
    public void Buckets_tile_the_range_without_gaps_or_overlaps()
    {
        var histogram = new LogLinearHistogram(5);
        long expectedLow = 0;
        for (var index = 0; index < ((64 - 5) << 5); index++) // every bucket a non-negative long can reach
        {
            var (low, high) = histogram.BoundsOf(index);
            Assert.Equal(expectedLow, low);
            Assert.Equal(index, histogram.IndexOf(low));
            Assert.Equal(index, histogram.IndexOf(high));
            expectedLow = high + 1;
        }
    }

    [Theory]
    [InlineData(50)]
    [InlineData(90)]
    [InlineData(99)]
    [InlineData(99.9)]
    public void Percentiles_match_a_sorted_array_within_the_relative_error(double percentile)
    {
        var random = new Random(11);
        var histogram = new LogLinearHistogram();
        var values = new long[100_000];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (long)(Math.Exp(random.NextDouble() * 10) * 100); // log-uniform 100 .. 2.2 M, like latencies in µs
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        var exact = values[(int)Math.Ceiling(percentile / 100 * values.Length) - 1];
        var reported = histogram.ValueAtPercentile(percentile);
        Assert.True(Math.Abs(reported - exact) <= histogram.RelativeError * exact, $"P{percentile}: exact {exact}, reported {reported}");
    }

    [Fact]
    public void Max_and_count_are_exact()
    {
        var histogram = new LogLinearHistogram();
        histogram.Record(123_456_789);
        histogram.Record(3);
        Assert.Equal(2, histogram.Count);
        Assert.Equal(123_456_789, histogram.Max);
        Assert.Equal(123_456_789, histogram.ValueAtPercentile(100));
    }
}
