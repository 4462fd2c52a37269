using ReadHistory.Api.V1;
using ReadHistory.Rpc;

namespace ReadHistory.Api.Internal.V1;

/// <summary>The method descriptors of readhistory.internal.v1.CacheNode, the calls a proxy forwards to a cache node.</summary>
public static class CacheNodeMethods
{
    /// <summary>The fully qualified service name.</summary>
    public const string ServiceName = "readhistory.internal.v1.CacheNode";

    /// <summary>Check forwarded by the proxy.</summary>
    public static readonly Method<CacheCheckRequest, CheckResponse> Check =
        new(MethodType.Unary, ServiceName, "Check", CacheCheckRequest.Parser, CheckResponse.Parser);

    /// <summary>Filter forwarded by the proxy.</summary>
    public static readonly Method<CacheCheckRequest, FilterResponse> Filter =
        new(MethodType.Unary, ServiceName, "Filter", CacheCheckRequest.Parser, FilterResponse.Parser);

    /// <summary>The entries of a BatchCheck that belong to the node's slot.</summary>
    public static readonly Method<CacheBatchCheckRequest, BatchCheckResponse> BatchCheck =
        new(MethodType.Unary, ServiceName, "BatchCheck", CacheBatchCheckRequest.Parser, BatchCheckResponse.Parser);

    /// <summary>MarkRead forwarded by the proxy.</summary>
    public static readonly Method<CacheMarkReadRequest, MarkReadResponse> MarkRead =
        new(MethodType.Unary, ServiceName, "MarkRead", CacheMarkReadRequest.Parser, MarkReadResponse.Parser);

    /// <summary>ForgetUser forwarded by the proxy.</summary>
    public static readonly Method<CacheForgetRequest, ForgetUserResponse> Forget =
        new(MethodType.Unary, ServiceName, "Forget", CacheForgetRequest.Parser, ForgetUserResponse.Parser);

    /// <summary>Warm start: a peer's filters, hottest first, with the stream cursor taken before them.</summary>
    public static readonly Method<SnapshotRequest, SnapshotChunk> Snapshot =
        new(MethodType.ServerStreaming, ServiceName, "Snapshot", SnapshotRequest.Parser, SnapshotChunk.Parser);

    /// <summary>The node's figures per pool.</summary>
    public static readonly Method<StatsRequest, StatsResponse> Stats =
        new(MethodType.Unary, ServiceName, "Stats", StatsRequest.Parser, StatsResponse.Parser);
}
