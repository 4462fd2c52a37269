using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using ReadHistory.Server.Hosting;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class ConnectionLimitsTests
{
    [Fact]
    public void The_shipped_limits_are_set_on_kestrel_deliberately()
    {
        var limits = Bind(new());
        var kestrel = new KestrelServerOptions();

        limits.ApplyTo(kestrel.Limits);

        Assert.Equal(10_000, kestrel.Limits.MaxConcurrentConnections);
        Assert.Equal(100, kestrel.Limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(16_384, kestrel.Limits.MaxRequestHeadersTotalSize);
        Assert.Equal(64, kestrel.Limits.MaxRequestHeaderCount);
        Assert.Equal(16_384, kestrel.Limits.Http2.MaxRequestHeaderFieldSize);
    }

    [Fact]
    public void A_misspelt_or_out_of_bounds_connection_limit_is_a_problem_naming_its_key()
    {
        var problems = ServerOptionsRegistration.Problems(Shipped(new()
        {
            ["ReadHistory:Connections:MaxStreams"] = "10",
            ["ReadHistory:Connections:MaxConnections"] = "0",
            ["ReadHistory:Connections:MaxRequestHeadersTotalSize"] = "100",
        }));

        Assert.Contains("ReadHistory:Connections:MaxStreams: unknown key (did you mean MaxStreamsPerConnection?)", problems);
        Assert.Contains("ReadHistory:Connections:MaxConnections: 0 is below 1", problems);
        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Connections:MaxRequestHeadersTotalSize: 100 is outside", StringComparison.Ordinal));
    }

    private static ConnectionLimits Bind(Dictionary<string, string?> settings)
    {
        var limits = new ConnectionLimits();
        Shipped(settings).GetSection(ConnectionLimits.Section).Bind(limits);
        return limits;
    }

    private static IConfiguration Shipped(Dictionary<string, string?> settings) => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
        .AddInMemoryCollection(settings)
        .Build();
}
