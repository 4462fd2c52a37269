using Microsoft.Extensions.Configuration;
using ReadHistory.Server.Auth;
using ReadHistory.Server.Hosting;
using Xunit;

namespace ReadHistory.Server.Tests.Auth;

public sealed class AuthOptionsTests
{
    private static readonly string Hash = ApiKeyRing.HashOf("rh_key");

    [Fact]
    public void A_key_with_a_bad_hash_tenant_or_scope_is_a_problem_naming_its_key()
    {
        var problems = Problems(new()
        {
            ["ReadHistory:Auth:Keys:ranker:Sha256"] = "abc",
            ["ReadHistory:Auth:Keys:ranker:Tenants:0"] = "Feed",
            ["ReadHistory:Auth:Keys:ranker:Scopes:0"] = "admin",
        });

        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Auth:Keys:ranker:Sha256:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Auth:Keys:ranker:Tenants:0:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Auth:Keys:ranker:Scopes:0: 'admin'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_misspelt_key_setting_is_an_unknown_key()
    {
        var problems = Problems(new()
        {
            ["ReadHistory:Auth:Keys:ranker:Sha265"] = Hash,
            ["ReadHistory:Auth:Keys:ranker:Tenants:0"] = "feed",
            ["ReadHistory:Auth:Keys:ranker:Scopes:0"] = "read",
        });

        Assert.Contains("ReadHistory:Auth:Keys:ranker:Sha265: unknown key (did you mean Sha256?)", problems);
    }

    [Fact]
    public void The_same_key_twice_is_a_problem()
    {
        var problems = Problems(new()
        {
            ["ReadHistory:Auth:Keys:a:Sha256"] = Hash,
            ["ReadHistory:Auth:Keys:a:Tenants:0"] = "feed",
            ["ReadHistory:Auth:Keys:a:Scopes:0"] = "read",
            ["ReadHistory:Auth:Keys:b:Sha256"] = Hash.ToUpperInvariant(),
            ["ReadHistory:Auth:Keys:b:Tenants:0"] = "push",
            ["ReadHistory:Auth:Keys:b:Scopes:0"] = "read",
        });

        Assert.Contains(problems, p => p.Contains(":Sha256: the same key as ReadHistory:Auth:Keys:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_ring_finds_a_key_by_its_hash_and_nothing_else()
    {
        var options = new AuthOptions { Keys = { ["ranker"] = new ApiKeyOptions { Sha256 = Hash.ToUpperInvariant(), Tenants = ["feed"], Scopes = ["read"] } } };
        using var ring = new ApiKeyRing(options, configuration: null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal("ranker", Assert.IsType<ApiKeyIdentity>(ring.Find("rh_key")?.Identity).Id);
        Assert.Null(ring.Find("rh_kez"));
        Assert.Null(ring.Find(Hash));
    }

    private static IReadOnlyList<string> Problems(Dictionary<string, string?> settings) =>
        ServerOptionsRegistration.Problems(new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
            .AddInMemoryCollection(settings)
            .Build());
}
