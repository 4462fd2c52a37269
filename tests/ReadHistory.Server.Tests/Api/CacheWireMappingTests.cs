using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using ReadHistory.Server.Cache;
using Xunit;

namespace ReadHistory.Server.Tests.Api;

/// <summary>The cache's domain answers reach the wire as the values the cache sent before it had domain types.</summary>
public sealed class CacheWireMappingTests
{
    [Fact]
    public void Each_answer_source_maps_to_its_wire_value()
    {
        Assert.Equal(AnswerSource.Memory, CheckSource.Memory.ToWire());
        Assert.Equal(AnswerSource.MemoryStale, CheckSource.MemoryStale.ToWire());
        Assert.Equal(AnswerSource.Database, CheckSource.Database.ToWire());
        Assert.Equal(AnswerSource.Passthrough, CheckSource.Passthrough.ToWire());
    }

    [Fact]
    public void Every_answer_source_has_a_wire_value()
    {
        Assert.All(Enum.GetValues<CheckSource>(), s => Assert.NotEqual(AnswerSource.Unspecified, s.ToWire()));
    }

    [Fact]
    public void Pool_statistics_map_field_by_field_to_pool_stats()
    {
        var stats = new PoolStatistics("feed", 3, 4096, 1L << 30, 10, 2, 5, 1, 1, 0.004, 0.006, 5000);

        var wire = stats.ToWire();

        Assert.Equal(
            new PoolStats
            {
                Pool = "feed",
                Users = 3,
                Bytes = 4096,
                BudgetBytes = 1UL << 30,
                Hits = 10,
                Misses = 2,
                Evictions = 5,
                RebuildsInFlight = 1,
                CappedUsers = 1,
                FalsePositiveRateEstimate = 0.004,
                FalsePositiveRateMeasured = 0.006,
                FalsePositiveSamples = 5000,
            },
            wire);
    }

    [Fact]
    public void A_negative_byte_count_goes_out_as_zero_as_before()
    {
        var stats = new PoolStatistics("feed", 0, -8, 1, 0, 0, 0, 0, 0, 0, 0, 0);

        Assert.Equal(0UL, stats.ToWire().Bytes);
    }
}
