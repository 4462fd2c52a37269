using ReadHistory.Rpc;

namespace ReadHistory.Api.V1;

/// <summary>The method descriptors of readhistory.v1.ReadHistory, shared by the server, the proxy's clients and the CLI.</summary>
public static class ReadHistoryMethods
{
    /// <summary>The fully qualified service name.</summary>
    public const string ServiceName = "readhistory.v1.ReadHistory";

    /// <summary>Check: one user, a bitmap of read ids.</summary>
    public static readonly Method<CheckRequest, CheckResponse> Check =
        new(MethodType.Unary, ServiceName, "Check", CheckRequest.Parser, CheckResponse.Parser);

    /// <summary>Filter: one user, the unread ids.</summary>
    public static readonly Method<CheckRequest, FilterResponse> Filter =
        new(MethodType.Unary, ServiceName, "Filter", CheckRequest.Parser, FilterResponse.Parser);

    /// <summary>BatchCheck: many users, a status per user.</summary>
    public static readonly Method<BatchCheckRequest, BatchCheckResponse> BatchCheck =
        new(MethodType.Unary, ServiceName, "BatchCheck", BatchCheckRequest.Parser, BatchCheckResponse.Parser);

    /// <summary>MarkRead: durable write of one user's reads.</summary>
    public static readonly Method<MarkReadRequest, MarkReadResponse> MarkRead =
        new(MethodType.Unary, ServiceName, "MarkRead", MarkReadRequest.Parser, MarkReadResponse.Parser);

    /// <summary>Ingest: client-streaming bulk writes.</summary>
    public static readonly Method<IngestRequest, IngestResponse> Ingest =
        new(MethodType.ClientStreaming, ServiceName, "Ingest", IngestRequest.Parser, IngestResponse.Parser);

    /// <summary>ForgetUser: removes a user's history.</summary>
    public static readonly Method<ForgetUserRequest, ForgetUserResponse> ForgetUser =
        new(MethodType.Unary, ServiceName, "ForgetUser", ForgetUserRequest.Parser, ForgetUserResponse.Parser);
}
