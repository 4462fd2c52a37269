using ReadHistory.Server.Cache;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class SnapshotOrderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(1024)]
    [InlineData(1_078_054)]
    public void Stepping_by_the_stride_visits_every_index_once(int length)
    {
        var stride = SnapshotSender.StrideFor(length);
        var seen = new bool[length];

        for (var step = 0L; step < length; step++)
        {
            var index = (int)(step * stride % length);
            Assert.False(seen[index], $"index {index} visited twice");
            seen[index] = true;
        }

        Assert.All(seen, Assert.True);
    }

    [Fact]
    public void Consecutive_steps_land_far_apart()
    {
        const int Length = 1 << 20;

        var stride = SnapshotSender.StrideFor(Length);

        Assert.InRange(stride, Length / 4, Length - (Length / 4));
    }
}
