using ReadHistory.Api.V1;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Output;

/// <summary>The names the CLI prints for proto enum values: short, upper case, as in the proto.</summary>
internal static class ProtoNames
{
    /// <summary>The short name of an answer source: MEMORY, MEMORY_STALE, SNAPSHOT, DATABASE, PASSTHROUGH or UNSPECIFIED.</summary>
    public static string SourceName(AnswerSource source) => source switch
    {
        AnswerSource.Unspecified => "UNSPECIFIED",
        AnswerSource.Memory => "MEMORY",
        AnswerSource.Snapshot => "SNAPSHOT",
        AnswerSource.Database => "DATABASE",
        AnswerSource.Passthrough => "PASSTHROUGH",
        AnswerSource.MemoryStale => "MEMORY_STALE",
        _ => ((int)source).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The proto name of a serving status: SERVING, NOT_SERVING, SERVICE_UNKNOWN or UNKNOWN.</summary>
    public static string StatusName(HealthCheckResponse.Types.ServingStatus status) => status switch
    {
        HealthCheckResponse.Types.ServingStatus.Unknown => "UNKNOWN",
        HealthCheckResponse.Types.ServingStatus.Serving => "SERVING",
        HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
        HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
