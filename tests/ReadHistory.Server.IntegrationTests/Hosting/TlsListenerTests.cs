using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>The gRPC listener with ReadHistory:TlsCertificatePath set: TLS (ALPN h2) and nothing else.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class TlsListenerTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private const string Password = "test-pfx-password";
    private readonly string _pfxPath = Path.Combine(Path.GetTempPath(), "readhistory-tls-" + Guid.NewGuid().ToString("N") + ".pfx");
    private X509Certificate2? _certificate;
    private TestHost? _host;

    public async Task InitializeAsync()
    {
        _certificate = CreateSelfSigned();
        await File.WriteAllBytesAsync(_pfxPath, _certificate.Export(X509ContentType.Pfx, Password));
        var settings = TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), "tls" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:TlsCertificatePath"] = _pfxPath;
        settings["ReadHistory:TlsCertificatePassword"] = Password;
        _host = await TestHost.StartReadyAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _certificate?.Dispose();
        File.Delete(_pfxPath);
    }

    [Fact]
    public async Task A_client_that_trusts_the_certificate_calls_check_over_https()
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        var expected = _certificate!.GetCertHashString(HashAlgorithmName.SHA256);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == expected;
        using var channel = GrpcChannel.ForAddress(_host!.Grpc, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });

        var response = await new ReadHistoryClient(channel).CheckAsync(new CheckRequest { UserId = 3, ContentIds = { 1, 2 } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.Equal("https", _host.Grpc.Scheme);
        Assert.Equal(2u, response.UnreadCount);
    }

    [Fact]
    public async Task A_plaintext_h2c_call_to_the_tls_port_fails()
    {
        using var channel = GrpcChannel.ForAddress(new UriBuilder(_host!.Grpc) { Scheme = "http" }.Uri);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new ReadHistoryClient(channel).CheckAsync(new CheckRequest { UserId = 3, ContentIds = { 1 } }, TestHost.Deadline()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
