using Microsoft.Extensions.Logging;

namespace ReadHistory.Telemetry;

/// <summary>Source-generated log messages of the telemetry area; event ids 9000–9099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 9000, Level = LogLevel.Warning,
        Message = "Metric {Metric} reached its limit of {Limit} label sets; measurements for new label sets are dropped and counted in readhistory_telemetry_series_dropped_total")]
    public static partial void SeriesLimitReached(ILogger logger, string metric, int limit);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning,
        Message = "Instrument {Instrument} of meter {Meter} is exported as {Metric}, a name already taken by an instrument of another type; it is skipped")]
    public static partial void MetricNameClash(ILogger logger, string instrument, string meter, string metric);
}
