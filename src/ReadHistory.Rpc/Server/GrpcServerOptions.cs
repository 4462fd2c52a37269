using System.IO.Compression;

namespace ReadHistory.Rpc.Server;

/// <summary>Server-wide settings, given to <see cref="GrpcServiceCollectionExtensions.AddGrpcServer"/>.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>The largest request message accepted, in bytes (after decompression); null = no limit. Default 4 MiB.</summary>
    public int? MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest response message sent, in bytes; null (the default) = no limit. A larger one ends the call with RESOURCE_EXHAUSTED.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Compress responses with this encoding when the client accepts it; only "gzip" is known. Null (the default) = never.</summary>
    public string? ResponseCompressionAlgorithm { get; set; }

    /// <summary>How hard gzip works on responses.</summary>
    public CompressionLevel ResponseCompressionLevel { get; set; } = CompressionLevel.Fastest;

    /// <summary>Put the exception text of a failed handler into the UNKNOWN status sent to clients. Off by default: it can leak internals.</summary>
    public bool EnableDetailedErrors { get; set; }
}
