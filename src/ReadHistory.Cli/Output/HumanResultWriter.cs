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

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
