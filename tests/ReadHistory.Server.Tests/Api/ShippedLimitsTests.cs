using ReadHistory.Api;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Api;

public sealed class ShippedLimitsTests
{
    [Fact]
    public void The_shipped_id_limit_is_the_one_clients_check_against()
    {
        Assert.Equal(ApiLimits.MaxIdsPerCall, ShippedDefaults.Limits().MaxIdsPerCall);
    }
}
