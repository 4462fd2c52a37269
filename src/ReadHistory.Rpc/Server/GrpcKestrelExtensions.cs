using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ReadHistory.Rpc.Server;

/// <summary>Kestrel endpoints for gRPC.</summary>
public static class GrpcKestrelExtensions
{
    /// <summary>
    /// Listens for gRPC on an address: HTTP/2 only, cleartext (h2c, prior knowledge) when <paramref name="certificate"/>
    /// is null, TLS with ALPN h2 otherwise. Port 0 picks a free port (read it from the server's addresses).
    /// </summary>
    public static KestrelServerOptions ListenGrpc(this KestrelServerOptions options, IPEndPoint endPoint, X509Certificate2? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(endPoint);
        options.Listen(endPoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        });
        return options;
    }
}
