namespace ReadHistory.Server.Hosting;

/// <summary>The gRPC listeners of a process: which one a connection arrived on decides which services it may call.</summary>
internal enum GrpcListener
{
    /// <summary>ReadHistory:GrpcListen: the public API (readhistory.v1.ReadHistory), health and reflection.</summary>
    Public,

    /// <summary>ReadHistory:InternalGrpcListen (cache role): the internal CacheNode API and health, for proxies and peers.</summary>
    Internal,
}
