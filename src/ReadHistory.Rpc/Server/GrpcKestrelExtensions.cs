using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ReadHistory.Rpc.Server;

/// <summary>Kestrel endpoints for gRPC.</summary>
public static class GrpcKestrelExtensions
{
    /// <summary>
    /// Response bytes Kestrel buffers before a write waits (its default is 64 KiB). Raised so that a server stream
    /// writing messages of up to 4 MiB (a warm-start Snapshot) builds the next message while the last one drains
    /// instead of stalling on every message. Server-wide: it applies to every endpoint of the server.
    /// </summary>
    public const long ResponseBufferBytes = 8L << 20;

    /// <summary>
    /// Listens for gRPC on an address: HTTP/2 only, cleartext (h2c, prior knowledge) when <paramref name="certificate"/>
    /// is null, TLS with ALPN h2 otherwise. Port 0 picks a free port (read it from the server's addresses). Raises the
    /// server's response buffer to <see cref="ResponseBufferBytes"/> (see there).
    /// </summary>
    public static KestrelServerOptions ListenGrpc(this KestrelServerOptions options, IPEndPoint endPoint, X509Certificate2? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(endPoint);
        if (options.Limits.MaxResponseBufferSize is { } buffer && buffer < ResponseBufferBytes)
        {
            options.Limits.MaxResponseBufferSize = ResponseBufferBytes;
        }

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
