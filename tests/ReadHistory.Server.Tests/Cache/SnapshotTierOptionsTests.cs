using ReadHistory.Server.Cache;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class SnapshotTierOptionsTests
{
    [Fact]
    public void The_shipped_T2_settings_are_valid()
    {
        var problems = new List<string>();

        ShippedDefaults.Cache().T2.Validate(problems);

        Assert.Empty(problems);
    }

    [Fact]
    public void A_refresh_max_age_past_the_ttl_is_refused_since_every_snapshot_would_expire_before_it_counts_as_old()
    {
        var problems = new List<string>();

        ShippedDefaults.Cache(static o => o.T2.RefreshMaxAge = o.T2.Ttl).T2.Validate(problems);

        Assert.Contains(problems, static p => p.StartsWith("ReadHistory:Cache:T2:RefreshMaxAge:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refresh_without_a_byte_rate_is_refused()
    {
        var problems = new List<string>();

        ShippedDefaults.Cache(static o => o.T2.RefreshBytesPerSecond = 0).T2.Validate(problems);

        Assert.Contains(problems, static p => p.StartsWith("ReadHistory:Cache:T2:RefreshBytesPerSecond:", StringComparison.Ordinal));
    }
}
