using ReadHistory.Api.V1;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Output;

/// <summary>Prints the answer of each command to standard output, as text for people or as JSON for scripts.</summary>
internal interface IResultWriter
{
    /// <summary>Each id with whether it was read, then a summary.</summary>
    void WriteCheck(CheckRequest request, CheckResponse response);

    /// <summary>The unread ids.</summary>
    void WriteFilter(CheckRequest request, FilterResponse response);

    /// <summary>How many items were written.</summary>
    void WriteMarkRead(MarkReadRequest request, MarkReadResponse response);

    /// <summary>What was sent and what the server accepted.</summary>
    void WriteIngest(IngestProgress progress, IngestResponse response);

    /// <summary>How many rows were removed.</summary>
    void WriteForget(ForgetUserRequest request, ForgetUserResponse response);

    /// <summary>What a cache node knows of one id of one user.</summary>
    void WriteExplain(ReadHistory.Api.Internal.V1.ExplainRequest request, ReadHistory.Api.Internal.V1.ExplainResponse response);

    /// <summary>The serving status.</summary>
    void WriteHealth(HealthCheckRequest request, HealthCheckResponse response);
}
