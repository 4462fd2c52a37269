using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Client;

/// <summary>
/// A connection pool to one gRPC server over HTTP/2 (HttpClient on a SocketsHttpHandler). <c>http://</c> addresses
/// speak cleartext HTTP/2 with prior knowledge (h2c), <c>https://</c> addresses TLS with ALPN. Thread-safe; make one
/// per server and share it.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private const int MinReceiveBufferSize = 1024;
    private const int MaxReceiveBufferSize = 1 << 20;
    private readonly ConcurrentDictionary<string, Uri> _methodUris = new(StringComparer.Ordinal);
    private readonly bool _disposeHandler;
    private readonly HttpMessageInvoker _invoker;

    private GrpcChannel(Uri address, GrpcChannelOptions options)
    {
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"a gRPC address is http:// or https://, not {address}", nameof(address));
        }

        if (options.SendCompression is { } compression && !string.Equals(compression, GrpcProtocolConstants.GzipEncoding, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"send compression '{compression}' is not supported: only gzip is", nameof(options));
        }

        if (options.ReceiveBufferSize is < MinReceiveBufferSize or > MaxReceiveBufferSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ReceiveBufferSize, $"ReceiveBufferSize must be {MinReceiveBufferSize} to {MaxReceiveBufferSize} bytes");
        }

        Address = address;
        ReaderOptions = new StreamPipeReaderOptions(bufferSize: options.ReceiveBufferSize, minimumReadSize: Math.Max(1024, options.ReceiveBufferSize / 4), leaveOpen: false);
        MaxReceiveMessageSize = options.MaxReceiveMessageSize ?? int.MaxValue;
        MaxSendMessageSize = options.MaxSendMessageSize ?? int.MaxValue;
        CompressRequests = options.SendCompression is not null;
        TimeProvider = options.TimeProvider;
        var handler = options.HttpHandler;
        _disposeHandler = handler is null || options.DisposeHttpHandler;
        _invoker = new HttpMessageInvoker(handler ?? CreateDefaultHandler(), disposeHandler: _disposeHandler);
    }

    /// <summary>The server's base address.</summary>
    public Uri Address { get; }

    internal int MaxReceiveMessageSize { get; }

    /// <summary>How response bodies are read (segment size from <see cref="GrpcChannelOptions.ReceiveBufferSize"/>).</summary>
    internal StreamPipeReaderOptions ReaderOptions { get; }

    internal int MaxSendMessageSize { get; }

    internal bool CompressRequests { get; }

    internal TimeProvider TimeProvider { get; }

    internal HttpMessageInvoker HttpInvoker => _invoker;

    /// <summary>A channel to <paramref name="address"/>, e.g. <c>http://127.0.0.1:5000</c>.</summary>
    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null) =>
        ForAddress(new Uri(address, UriKind.Absolute), options);

    /// <summary>A channel to <paramref name="address"/>.</summary>
    public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new GrpcChannel(address, options ?? new GrpcChannelOptions());
    }

    /// <summary>The invoker that starts calls on this channel.</summary>
    public CallInvoker CreateCallInvoker() => new HttpClientCallInvoker(this);

    /// <summary>Closes the connections (when the channel owns the handler).</summary>
    public void Dispose() => _invoker.Dispose();

    /// <summary>The request URI of a method, built once per method.</summary>
    internal Uri GetMethodUri(IMethod method) =>
        _methodUris.TryGetValue(method.FullName, out var uri)
            ? uri
            : _methodUris.GetOrAdd(method.FullName, static (path, address) => new Uri(address, path), Address);

    private static SocketsHttpHandler CreateDefaultHandler() => new()
    {
        // More than 100 concurrent calls (the usual stream limit) open another connection instead of queueing.
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };
}
