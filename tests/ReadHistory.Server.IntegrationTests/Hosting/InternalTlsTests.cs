using System.Security.Authentication;
using Grpc.Core;
using Grpc.Health.V1;
using ReadHistory.Api;
using ReadHistory.Server.Tls;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>
/// The internal port of a cache node with ReadHistory:InternalTls set: TLS that requires a client certificate chained to
/// the internal CA; a client certificate of another CA, none, or cleartext HTTP/2 is refused, and an internal client
/// refuses a node whose certificate is of another CA.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class InternalTlsTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create();
    private readonly TestCertificateAuthority _otherCa = TestCertificateAuthority.Create("another-ca");
    private TestHost? _host;

    public async Task InitializeAsync()
    {
        var settings = TestHost.Settings("cache", mariaDb.Server.ConnectionString(), "itls" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var (key, value) in _ca.InternalTlsSettings(_ca.Issue("cache-0")))
        {
            settings[key] = value;
        }

        _host = await TestHost.StartReadyAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _ca.Dispose();
        _otherCa.Dispose();
    }

    [Fact]
    public async Task A_client_with_a_certificate_of_the_internal_ca_is_served()
    {
        using var tls = Client(_ca.Issue("proxy"), _ca);

        var status = await CheckHealthAsync(_host!.Internal, tls);

        Assert.Equal("https", _host.Internal.Scheme);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, status);
    }

    [Fact]
    public async Task A_client_with_a_certificate_of_another_ca_is_refused()
    {
        using var tls = Client(_otherCa.Issue("intruder"), _ca);

        var error = await Assert.ThrowsAsync<RpcException>(() => CheckHealthAsync(_host!.Internal, tls));

        AssertRefusedByTheNode(error);
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused()
    {
        var handler = ServiceChannels.CreateHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.Issuer == _ca.Certificate.Subject;
        using var channel = ServiceChannels.Create(_host!.Internal, handler);

        var error = await Assert.ThrowsAsync<RpcException>(() => new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout());

        AssertRefusedByTheNode(error);
    }

    [Fact]
    public async Task A_cleartext_h2c_call_to_the_internal_port_is_refused()
    {
        using var channel = ServiceChannels.Create(new UriBuilder(_host!.Internal) { Scheme = "http" }.Uri);

        var error = await Assert.ThrowsAsync<RpcException>(() => new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout());

        AssertRefusedByTheNode(error);
    }

    [Fact]
    public async Task An_internal_client_refuses_a_node_whose_certificate_is_of_another_ca()
    {
        using var tls = Client(_ca.Issue("proxy"), _otherCa);

        var error = await Assert.ThrowsAsync<RpcException>(() => CheckHealthAsync(_host!.Internal, tls));

        // The handshake fails on the client's side (Grpc.Net.Client reports that as INTERNAL, not UNAVAILABLE).
        Assert.IsType<AuthenticationException>(error.Status.DebugException?.InnerException);
    }

    // The node ends the connection (a TLS alert, or a close at the first bytes that are no handshake) before any HTTP/2
    // answer. Under TLS 1.3 the client has finished its side of the handshake by then, so what it reports depends on
    // when the alert arrives: a broken connection (UNAVAILABLE) or a failed HTTP/2 start (INTERNAL); either way the
    // call never reached a service.
    private static void AssertRefusedByTheNode(RpcException error)
    {
        Assert.Contains(error.StatusCode, (StatusCode[])[StatusCode.Unavailable, StatusCode.Internal]);
        Assert.IsType<HttpRequestException>(error.Status.DebugException, exactMatch: false);
    }

    // An internal client's TLS as a proxy or a peer has it: this certificate, and trust in this CA only.
    private static InternalTls Client(TestCertificate certificate, TestCertificateAuthority trusted) =>
        InternalTls.Load(new InternalTlsOptions { CertificatePath = certificate.CertificatePath, KeyPath = certificate.KeyPath, CaPath = trusted.CaPath });

    private static async Task<HealthCheckResponse.Types.ServingStatus> CheckHealthAsync(Uri address, InternalTls tls)
    {
        var handler = ServiceChannels.CreateHandler();
        tls.ConfigureClient(handler);
        using var channel = ServiceChannels.Create(address, handler);
        var response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        return response.Status;
    }
}
