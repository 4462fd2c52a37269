using Xunit;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Targets;

namespace ReadHistory.LoadGen.Tests;

public sealed class PeerTargetTests
{
    [Fact]
    public void The_service_bitmap_is_decoded_lsb_first_and_aligned_with_the_candidates()
    {
        var read = new bool[10];
        ServiceTarget.Decode([0b0000_0101, 0b0000_0010], read);
        Assert.Equal(new[] { true, false, true, false, false, false, false, false, false, true }, read);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(2_000)]
    [InlineData(300_000)]
    public void Redis_bloom_sizing_meets_its_false_positive_target_at_the_loaded_history(int rows)
    {
        var (bits, k) = RedisBloomTarget.Size(rows, 0.01);
        var array = new bool[bits];
        var model = new WorkloadModel(new WorkloadOptions { Users = 1 });
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < k; j++)
            {
                array[RedisBloomTarget.Offset(model.ReadId(42, i), j, bits)] = true;
            }
        }

        var rng = new SplitMix(9, 9, 9);
        var falsePositives = 0;
        const int probes = 200_000;
        for (var p = 0; p < probes; p++)
        {
            var id = WorkloadModel.UnreadId(rng.Next());
            var hit = true;
            for (var j = 0; j < k && hit; j++)
            {
                hit = array[RedisBloomTarget.Offset(id, j, bits)];
            }

            falsePositives += hit ? 1 : 0;
        }

        Assert.True(falsePositives < probes * 0.01, $"{falsePositives} of {probes}"); // headroom keeps it under 1 % at load
    }
}
