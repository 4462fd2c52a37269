using Microsoft.Extensions.Configuration;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class InternalTlsOptionsTests
{
    [Fact]
    public void A_certificate_without_its_key_and_ca_is_a_problem()
    {
        using var ca = TestCertificateAuthority.Create();
        var leaf = ca.Issue("cache");

        var problems = Problems(new() { ["ReadHistory:InternalTls:CertificatePath"] = leaf.CertificatePath });

        Assert.Contains("ReadHistory:InternalTls: CertificatePath, KeyPath and CaPath are set together or not at all", problems);
    }

    [Fact]
    public void With_internal_tls_an_http_replica_is_a_problem_and_an_https_one_is_not()
    {
        using var ca = TestCertificateAuthority.Create();
        var settings = ca.InternalTlsSettings(ca.Issue("proxy"));
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = "http://cache-0:50052";
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = "https://cache-1:50052";

        var problems = Problems(settings);

        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Topology:Pools:0:Slots:0:Replicas:0: 'http://cache-0:50052' is http://", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("cache-1", StringComparison.Ordinal));
    }

    private static IReadOnlyList<string> Problems(Dictionary<string, string?> settings) =>
        ServerOptionsRegistration.Problems(new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
            .AddInMemoryCollection(settings)
            .Build());
}
