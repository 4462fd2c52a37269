using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using ReadHistory.Api;
using ReadHistory.Api.V1;
using ReadHistory.Server.Auth;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>
/// Client certificates as the second scheme of the public API (roles all, TLS from PEM files, Auth:ClientCaPath): a
/// certificate mapped to tenants reads them and no other, an unmapped one or one of another CA is unauthenticated,
/// bearer keys keep working on the same port, and a certificate removed from the watched file is revoked.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ClientCertificateAuthTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private const string BearerKey = "rh_test_cert_suite_key";
    private readonly string _authFile = Path.Combine(Path.GetTempPath(), "readhistory-certs-" + Guid.NewGuid().ToString("N") + ".json");
    private readonly TestCertificateAuthority _clients = TestCertificateAuthority.Create("tenant-clients-ca");
    private readonly TestCertificateAuthority _other = TestCertificateAuthority.Create("another-ca");
    private TestCertificate? _tenantA;
    private string? _serverThumbprint;
    private TestHost? _host;

    public async Task InitializeAsync()
    {
        _tenantA = _clients.Issue("tenant-a-client");
        WriteAuth(("tenant-a", _tenantA));
        using var serverCa = TestCertificateAuthority.Create("server-ca");
        var server = serverCa.Issue("readhistory");
        _serverThumbprint = server.Certificate.GetCertHashString(HashAlgorithmName.SHA256);
        var settings = TestHost.Settings("all", mariaDb.Server.ConnectionString(), "cert" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:TlsCertificatePath"] = server.CertificatePath;
        settings["ReadHistory:TlsKeyPath"] = server.KeyPath;
        settings["ReadHistory:Auth:Mode"] = "ApiKeys";
        settings["ReadHistory:Auth:ClientCaPath"] = _clients.CaPath;
        _host = await TestHost.StartReadyAsync(settings, configuration => configuration.AddJsonFile(_authFile, optional: false, reloadOnChange: true));
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _clients.Dispose();
        _other.Dispose();
        File.Delete(_authFile);
    }

    [Fact]
    public async Task A_certificate_mapped_to_a_tenant_reads_that_tenant()
    {
        using var channel = Channel(_tenantA);

        var response = await new ReadHistoryClient(channel).CheckAsync(Check("tenant-a"), TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.Equal(2u, response.UnreadCount);
    }

    [Fact]
    public async Task A_certificate_mapped_to_a_tenant_is_permission_denied_on_another()
    {
        using var channel = Channel(_tenantA);

        var error = await FailsAsync(new ReadHistoryClient(channel).CheckAsync(Check("tenant-b"), TestHost.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.DoesNotContain("tenant-a", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_certificate_of_the_client_ca_that_is_not_mapped_is_unauthenticated()
    {
        using var channel = Channel(_clients.Issue("nobody"));

        var error = await FailsAsync(new ReadHistoryClient(channel).CheckAsync(Check("tenant-a"), TestHost.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task A_certificate_of_another_ca_is_unauthenticated_even_with_a_mapped_thumbprint()
    {
        var forged = _other.Issue("tenant-a-client");
        WriteAuth(("tenant-a", _tenantA!), ("forged", forged));
        await Poll.UntilAsync(() => Task.FromResult(Ring().CertificateCount == 2), "the host to reload the certificates");
        using var channel = Channel(forged);

        var error = await FailsAsync(new ReadHistoryClient(channel).CheckAsync(Check("tenant-a"), TestHost.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task A_bearer_key_keeps_working_on_the_same_port()
    {
        using var channel = Channel(certificate: null);
        var key = new Metadata { { "authorization", "Bearer " + BearerKey } };

        var response = await new ReadHistoryClient(channel).CheckAsync(Check("tenant-b"), new CallOptions(key, DateTime.UtcNow.AddSeconds(20))).ResponseAsync.DefaultTimeout();
        var without = await FailsAsync(new ReadHistoryClient(channel).CheckAsync(Check("tenant-b"), TestHost.Deadline()).ResponseAsync);

        Assert.Equal(2u, response.UnreadCount);
        Assert.Equal(StatusCode.Unauthenticated, without.StatusCode);
    }

    [Fact]
    public async Task A_certificate_removed_from_the_configuration_is_revoked_without_a_restart()
    {
        using var channel = Channel(_tenantA);
        await new ReadHistoryClient(channel).CheckAsync(Check("tenant-a"), TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        WriteAuth();

        await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    await new ReadHistoryClient(channel).CheckAsync(Check("tenant-a"), TestHost.Deadline()).ResponseAsync;
                    return false;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
                {
                    return true;
                }
            },
            "the removed certificate to be refused");
    }

    private static CheckRequest Check(string tenant) => new() { UserId = 5151, ContentIds = { 1, 2 }, Tenant = tenant };

    private static async Task<RpcException> FailsAsync(Task call) => await Assert.ThrowsAsync<RpcException>(() => call).DefaultTimeout();

    private ApiKeyRing Ring() => (ApiKeyRing)_host!.App.Services.GetService(typeof(ApiKeyRing))!;

    // A TLS channel to the public port that presents certificate (none when null) and trusts the server's certificate.
    private GrpcChannel Channel(TestCertificate? certificate)
    {
        var handler = ServiceChannels.CreateHandler();
        var expected = _serverThumbprint;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == expected;
        if (certificate is not null)
        {
            handler.SslOptions.ClientCertificates = [certificate.Certificate];
        }

        return ServiceChannels.Create(_host!.Grpc, handler);
    }

    // The bearer key (tenant-b) and the given certificates, in the file the host watches.
    private void WriteAuth(params (string Id, TestCertificate Certificate)[] certificates)
    {
        var json = new Dictionary<string, object>
        {
            ["ReadHistory"] = new Dictionary<string, object>
            {
                ["Auth"] = new Dictionary<string, object>
                {
                    ["Keys"] = new Dictionary<string, object> { ["tenant-b-key"] = new { Sha256 = ApiKeyRing.HashOf(BearerKey), Tenants = new[] { "tenant-b" }, Scopes = new[] { "read" } } },
                    ["Certificates"] = certificates.ToDictionary(
                        c => c.Id,
                        c => (object)new { Sha256 = c.Certificate.Certificate.GetCertHashString(HashAlgorithmName.SHA256), Tenants = new[] { "tenant-a" }, Scopes = new[] { "read" } }),
                },
            },
        };
        var temporary = _authFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(json));
        File.Move(temporary, _authFile, overwrite: true);
    }
}
