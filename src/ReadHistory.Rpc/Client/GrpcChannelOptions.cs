namespace ReadHistory.Rpc.Client;

/// <summary>Settings of a <see cref="GrpcChannel"/>.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>The handler to send with (e.g. a SocketsHttpHandler with TLS settings); null = a SocketsHttpHandler made for gRPC.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Dispose <see cref="HttpHandler"/> with the channel. The channel's own handler is always disposed.</summary>
    public bool DisposeHttpHandler { get; set; }

    /// <summary>The largest response message accepted, in bytes (after decompression); null = no limit. Default 4 MiB.</summary>
    public int? MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Bytes read from the response body at a time (the size of each buffer segment a message is gathered in), 1 KiB to
    /// 1 MiB. Default 4 KiB, right for small answers; a stream of large messages wants more (warm start's 1 MiB chunks
    /// use 256 KiB), or a message spans hundreds of segments, more than the shared array pool keeps, and every one is
    /// allocated anew.
    /// </summary>
    public int ReceiveBufferSize { get; set; } = 4096;

    /// <summary>The largest request message sent; null (the default) = no limit. A larger one fails the call with RESOURCE_EXHAUSTED before sending.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Compress request messages with this encoding; only "gzip" is known. Null (the default) = never.</summary>
    public string? SendCompression { get; set; }

    /// <summary>The clock for deadlines (tests inject a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
