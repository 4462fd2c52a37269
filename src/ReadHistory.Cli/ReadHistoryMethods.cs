using ReadHistory.Api.V1;
using ReadHistory.Rpc;

namespace ReadHistory.Cli;

/// <summary>
/// The method descriptors of <c>readhistory.v1.ReadHistory</c> (protos/readhistory/v1/read_history.proto),
/// written by hand because the build generates messages only. Server and clients can share these.
/// </summary>
public static class ReadHistoryMethods
{
    /// <summary>The full service name.</summary>
    public const string ServiceName = "readhistory.v1.ReadHistory";

    /// <summary>Which of the ids has the user read.</summary>
    public static readonly Method<CheckRequest, CheckResponse> Check =
        new(MethodType.Unary, ServiceName, "Check", CheckRequest.Parser, CheckResponse.Parser);

    /// <summary>The ids the user has not read.</summary>
    public static readonly Method<CheckRequest, FilterResponse> Filter =
        new(MethodType.Unary, ServiceName, "Filter", CheckRequest.Parser, FilterResponse.Parser);

    /// <summary>Many users in one call.</summary>
    public static readonly Method<BatchCheckRequest, BatchCheckResponse> BatchCheck =
        new(MethodType.Unary, ServiceName, "BatchCheck", BatchCheckRequest.Parser, BatchCheckResponse.Parser);

    /// <summary>Records reads, answering once durable.</summary>
    public static readonly Method<MarkReadRequest, MarkReadResponse> MarkRead =
        new(MethodType.Unary, ServiceName, "MarkRead", MarkReadRequest.Parser, MarkReadResponse.Parser);

    /// <summary>A client stream of read events.</summary>
    public static readonly Method<IngestRequest, IngestResponse> Ingest =
        new(MethodType.ClientStreaming, ServiceName, "Ingest", IngestRequest.Parser, IngestResponse.Parser);

    /// <summary>Removes a user's whole history.</summary>
    public static readonly Method<ForgetUserRequest, ForgetUserResponse> ForgetUser =
        new(MethodType.Unary, ServiceName, "ForgetUser", ForgetUserRequest.Parser, ForgetUserResponse.Parser);
}
