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

        Assert.Equal("ranker", Assert.IsType<CallerIdentity>(ring.Find("rh_key")?.Identity).Id);
        Assert.Null(ring.Find("rh_kez"));
        Assert.Null(ring.Find(Hash));
    }

    [Fact]
    public void A_certificate_with_the_id_of_a_key_or_a_bad_thumbprint_is_a_problem_naming_it()
    {
        var problems = Problems(new()
        {
            ["ReadHistory:Auth:Keys:ranker:Sha256"] = Hash,
            ["ReadHistory:Auth:Keys:ranker:Tenants:0"] = "feed",
            ["ReadHistory:Auth:Keys:ranker:Scopes:0"] = "read",
            ["ReadHistory:Auth:Certificates:ranker:Sha256"] = new string('a', 64),
            ["ReadHistory:Auth:Certificates:ranker:Tenants:0"] = "feed",
            ["ReadHistory:Auth:Certificates:ranker:Scopes:0"] = "read",
            ["ReadHistory:Auth:Certificates:pusher:Sha256"] = "ab:cd",
            ["ReadHistory:Auth:Certificates:pusher:Tenants:0"] = "push",
            ["ReadHistory:Auth:Certificates:pusher:Scopes:0"] = "read",
        });

        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Auth:Certificates:ranker: the id is an API key's too", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Auth:Certificates:pusher:Sha256:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_thumbprint_as_openssl_prints_it_finds_its_certificate()
    {
        using var ca = ReadHistory.TestSupport.TestCertificateAuthority.Create();
        var leaf = ca.Issue("tenant-client");
        var colons = string.Join(':', Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(leaf.Certificate.RawData)).Chunk(2).Select(c => new string(c)));
        var options = new AuthOptions { Certificates = { ["pusher"] = new ClientCertificateOptions { Sha256 = colons, Tenants = ["push"], Scopes = ["read"] } } };
        var problems = new List<string>();
        options.Validate(problems);
        using var ring = new ApiKeyRing(options, configuration: null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Empty(problems);
        Assert.Equal("pusher", Assert.IsType<CallerIdentity>(ring.FindCertificate(leaf.Certificate)?.Identity).Id);
        Assert.Null(ring.FindCertificate(ca.Certificate));
    }

    private static IReadOnlyList<string> Problems(Dictionary<string, string?> settings) =>
        ServerOptionsRegistration.Problems(new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
            .AddInMemoryCollection(settings)
            .Build());
}
