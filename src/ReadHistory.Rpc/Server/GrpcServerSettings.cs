using System.IO.Compression;
using Microsoft.Extensions.Logging;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Server;

/// <summary>The options resolved once at mapping time, shared by every call of every mapped method.</summary>
internal sealed class GrpcServerSettings
{
    public GrpcServerSettings(GrpcServerOptions options, TimeProvider timeProvider, ILogger logger)
    {
        MaxReceiveMessageSize = options.MaxReceiveMessageSize ?? int.MaxValue;
        MaxSendMessageSize = options.MaxSendMessageSize ?? int.MaxValue;
        if (options.ResponseCompressionAlgorithm is { } algorithm)
        {
            if (!string.Equals(algorithm, GrpcProtocolConstants.GzipEncoding, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"response compression '{algorithm}' is not supported: only gzip is");
            }

            CompressResponses = true;
        }

        CompressionLevel = options.ResponseCompressionLevel;
        EnableDetailedErrors = options.EnableDetailedErrors;
        TimeProvider = timeProvider;
        Logger = logger;
    }

    public int MaxReceiveMessageSize { get; }

    public int MaxSendMessageSize { get; }

    public bool CompressResponses { get; }

    public CompressionLevel CompressionLevel { get; }

    public bool EnableDetailedErrors { get; }

    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }
}
