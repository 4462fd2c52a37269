using System.Globalization;
using ReadHistory.Api.V1;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Output;

/// <summary>
/// Text for people. Lists come one item per line, tab-separated, so they still cut and grep well;
/// <c>filter</c> prints bare ids so its output can feed another command.
/// </summary>
internal sealed class HumanResultWriter(TextWriter output) : IResultWriter
{
    /// <inheritdoc />
    public void WriteCheck(CheckRequest request, CheckResponse response)
    {
        for (var i = 0; i < request.ContentIds.Count; i++)
        {
            output.Write(Invariant($"{request.ContentIds[i]}\t{(ReadBitmap.IsRead(response.ReadBitmap, i) ? "read" : "unread")}\n"));
        }

        output.Write(Invariant($"{response.UnreadCount} of {request.ContentIds.Count} unread (source: {ProtoNames.SourceName(response.Source)})\n"));
    }

    /// <inheritdoc />
    public void WriteFilter(CheckRequest request, FilterResponse response)
    {
        foreach (var id in response.UnreadIds)
        {
            output.Write(Invariant($"{id}\n"));
        }
    }

    /// <inheritdoc />
    public void WriteMarkRead(MarkReadRequest request, MarkReadResponse response) =>
        output.Write(Invariant($"written {response.Written} of {request.Items.Count} for user {request.UserId}\n"));

    /// <inheritdoc />
    public void WriteIngest(IngestProgress progress, IngestResponse response)
    {
        output.Write(Invariant($"sent {progress.Events} events in {progress.Batches} batches: accepted {response.Accepted}, rejected {response.Rejected}\n"));
        if (response.FirstError.Length > 0)
        {
            output.Write(Invariant($"first error: {response.FirstError}\n"));
        }
    }

    /// <inheritdoc />
    public void WriteForget(ForgetUserRequest request, ForgetUserResponse response) =>
        output.Write(Invariant($"forgot user {request.UserId}: {response.RowsRemoved} rows removed\n"));

    /// <inheritdoc />
    public void WriteHealth(HealthCheckRequest request, HealthCheckResponse response) =>
        output.Write(ProtoNames.StatusName(response.Status) + "\n");

    /// <inheritdoc />
    public void WriteExplain(ReadHistory.Api.Internal.V1.ExplainRequest request, ReadHistory.Api.Internal.V1.ExplainResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        var filter = response.Held
            ? (response.FilterRead ? Invariant($"read (layer {response.AnsweringLayer} of {response.Layers})") : "unread")
            : response.Capped ? "none: the user is capped, answered from the database" : "none: the user is not in memory";
        var verdict = response.Held && response.FilterRead && !response.DatabaseRead ? "  <- a false positive" : string.Empty;
        output.Write(Invariant($"pool {response.Pool}, user {request.UserId}, type {request.ContentType}, id {request.ContentId}\n"));
        output.Write("filter:   " + filter + verdict + "\n");
        output.Write(Invariant($"database: {(response.DatabaseRead ? "read" : "unread")} ({response.Rows} rows for the user)\n"));
        if (response.Held)
        {
            output.Write(Invariant($"user filter: {response.Layers} layers, {response.Items} items of {response.Capacity} capacity, {response.BitBytes} bit bytes, {response.MemoryBytes} heap bytes, estimated false-positive rate {response.FalsePositiveRateEstimate:0.######}\n"));
        }

        if (response.Rebuilding)
        {
            output.Write("a rebuild of the user is running or queued\n");
        }

        output.Write(response.PoolFalsePositiveSamples > 0
            ? Invariant($"pool measured false-positive rate: {response.PoolFalsePositiveRateMeasured:0.######} over {response.PoolFalsePositiveSamples} negatives\n")
            : "pool measured false-positive rate: no samples (the verifier is off or has not drawn yet)\n");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
