using Microsoft.Extensions.Configuration;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Api.Admission;

public sealed class AdmissionOptionsTests
{
    [Fact]
    public void The_shipped_bounds_are_valid_and_keep_a_share_for_writes()
    {
        var options = ShippedDefaults.Get<AdmissionOptions>(AdmissionOptions.Section);
        var problems = new List<string>();

        options.Validate(problems);

        Assert.Empty(problems);
        Assert.True(options.Node.Writes > 0 && options.Proxy.Writes > 0);
        Assert.True(options.Node.Checks > 0 && options.Proxy.Checks > 0);
    }

    [Fact]
    public void Bad_bounds_and_retry_hints_are_named_by_their_keys()
    {
        var problems = ServerOptionsRegistration.Problems(Shipped(new()
        {
            ["ReadHistory:Admission:Node:Checks"] = "-1",
            ["ReadHistory:Admission:Proxy:Writes"] = "2000000",
            ["ReadHistory:Admission:RetryAfter"] = "00:00:00",
            ["ReadHistory:Admission:Node:Check"] = "5",
        }));

        Assert.Contains("ReadHistory:Admission:Node:Checks: -1 is outside 0 .. 1,000,000 (0 = not bounded)", problems);
        Assert.Contains("ReadHistory:Admission:Proxy:Writes: 2000000 is outside 0 .. 1,000,000 (0 = not bounded)", problems);
        Assert.Contains(problems, static p => p.StartsWith("ReadHistory:Admission:RetryAfter: ", StringComparison.Ordinal));
        Assert.Contains(problems, static p => p.StartsWith("ReadHistory:Admission:Node:Check: unknown key", StringComparison.Ordinal));
    }

    private static IConfiguration Shipped(Dictionary<string, string?> settings) => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
        .AddInMemoryCollection(settings)
        .Build();
}
