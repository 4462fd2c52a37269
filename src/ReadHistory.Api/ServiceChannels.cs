using System.Net;
using Grpc.Net.Client;

namespace ReadHistory.Api;

/// <summary>
/// The gRPC channels every client of the service uses (proxy → node, warm start, CLI, load generator, benchmarks).
/// A channel is handed an <see cref="HttpClient"/> over a <see cref="SocketsHttpHandler"/> instead of the handler
/// itself: given a SocketsHttpHandler, Grpc.Net.Client routes every call through its client-side load balancer
/// (subchannels, a picker, a connect callback), which nobody here uses (the proxy balances by slot and session
/// itself) and which cost 0.7–1 KB more allocation and more CPU per unary call at 64 in flight (rpc-loopback,
/// bench/RESULTS.md "Package swap").
/// </summary>
public static class ServiceChannels
{
    /// <summary>A handler set up for gRPC: several HTTP/2 connections when one is full, pooled forever, no cookies, proxy or redirects.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    };

    /// <summary>
    /// A channel to <paramref name="address"/> over <paramref name="handler"/> (a new <see cref="CreateHandler"/> when
    /// null), disposing both with the channel; <paramref name="maxReceiveMessageSize"/> null keeps Grpc.Net.Client's 4 MiB;
    /// <paramref name="bearerToken"/> (an API key) is sent as <c>authorization: Bearer</c> on every call.
    /// </summary>
    public static GrpcChannel Create(Uri address, SocketsHttpHandler? handler = null, int? maxReceiveMessageSize = null, string? bearerToken = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        // Deadlines are gRPC's: HttpClient's own timeout would cut long streams (warm start, Ingest).
        var http = new HttpClient(handler ?? CreateHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(bearerToken))
        {
            // A default header of the channel's HttpClient, not Grpc.Net.Client call credentials: those are refused on
            // an h2c channel unless UnsafeUseInsecureChannelCallCredentials, and cost a metadata callback per call.
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearerToken);
        }

        var options = new GrpcChannelOptions { HttpClient = http, DisposeHttpClient = true };
        if (maxReceiveMessageSize is { } limit)
        {
            options.MaxReceiveMessageSize = limit;
        }

        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>As <see cref="Create(Uri, SocketsHttpHandler?, int?, string?)"/>, for an address given as text (http://host:port).</summary>
    public static GrpcChannel Create(string address, SocketsHttpHandler? handler = null, int? maxReceiveMessageSize = null) =>
        Create(new Uri(address), handler, maxReceiveMessageSize);
}
