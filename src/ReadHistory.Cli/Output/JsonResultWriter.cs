using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ReadHistory.Api.V1;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Output;

/// <summary>
/// One JSON object per command on one line, snake_case names as in the proto. Ids are JSON numbers
/// written exactly (64-bit), enums are their short upper-case names.
/// </summary>
internal sealed class JsonResultWriter(TextWriter output) : IResultWriter
{
    // Messages from the server are shown as written; JSON itself needs only quotes and controls escaped.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <inheritdoc />
    public void WriteCheck(CheckRequest request, CheckResponse response) => Write(json =>
    {
        WriteUser(json, request.UserId, request.ContentType);
        json.WriteStartArray("results");
        for (var i = 0; i < request.ContentIds.Count; i++)
        {
            json.WriteStartObject();
            json.WriteNumber("content_id", request.ContentIds[i]);
            json.WriteBoolean("read", ReadBitmap.IsRead(response.ReadBitmap, i));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("unread_count", response.UnreadCount);
        json.WriteString("source", ProtoNames.SourceName(response.Source));
    });

    /// <inheritdoc />
    public void WriteFilter(CheckRequest request, FilterResponse response) => Write(json =>
    {
        WriteUser(json, request.UserId, request.ContentType);
        json.WriteStartArray("unread_ids");
        foreach (var id in response.UnreadIds)
        {
            json.WriteNumberValue(id);
        }

        json.WriteEndArray();
        json.WriteString("source", ProtoNames.SourceName(response.Source));
    });

    /// <inheritdoc />
    public void WriteMarkRead(MarkReadRequest request, MarkReadResponse response) => Write(json =>
    {
        WriteUser(json, request.UserId, request.ContentType);
        json.WriteNumber("items", request.Items.Count);
        json.WriteNumber("written", response.Written);
    });

    /// <inheritdoc />
    public void WriteIngest(IngestProgress progress, IngestResponse response) => Write(json =>
    {
        json.WriteNumber("events", progress.Events);
        json.WriteNumber("batches", progress.Batches);
        json.WriteNumber("accepted", response.Accepted);
        json.WriteNumber("rejected", response.Rejected);
        json.WriteString("first_error", response.FirstError);
    });

    /// <inheritdoc />
    public void WriteForget(ForgetUserRequest request, ForgetUserResponse response) => Write(json =>
    {
        json.WriteNumber("user_id", request.UserId);
        json.WriteNumber("rows_removed", response.RowsRemoved);
    });

    /// <inheritdoc />
    public void WriteHealth(HealthCheckRequest request, HealthCheckResponse response) => Write(json =>
    {
        json.WriteString("service", request.Service);
        json.WriteString("status", ProtoNames.StatusName(response.Status));
    });

    /// <inheritdoc />
    public void WriteExplain(ReadHistory.Api.Internal.V1.ExplainRequest request, ReadHistory.Api.Internal.V1.ExplainResponse response) => Write(json =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        json.WriteString("pool", response.Pool);
        WriteUser(json, request.UserId, request.ContentType);
        json.WriteNumber("content_id", request.ContentId);
        json.WriteBoolean("held", response.Held);
        json.WriteBoolean("capped", response.Capped);
        json.WriteBoolean("rebuilding", response.Rebuilding);
        json.WriteBoolean("filter_read", response.FilterRead);
        json.WriteNumber("answering_layer", response.AnsweringLayer);
        json.WriteBoolean("database_read", response.DatabaseRead);
        json.WriteBoolean("false_positive", response.Held && response.FilterRead && !response.DatabaseRead);
        json.WriteNumber("rows", response.Rows);
        json.WriteNumber("layers", response.Layers);
        json.WriteNumber("items", response.Items);
        json.WriteNumber("capacity", response.Capacity);
        json.WriteNumber("bit_bytes", response.BitBytes);
        json.WriteNumber("memory_bytes", response.MemoryBytes);
        json.WriteNumber("false_positive_rate_estimate", response.FalsePositiveRateEstimate);
        json.WriteNumber("pool_false_positive_rate_measured", response.PoolFalsePositiveRateMeasured);
        json.WriteNumber("pool_false_positive_samples", response.PoolFalsePositiveSamples);
    });

    private static void WriteUser(Utf8JsonWriter json, ulong userId, uint contentType)
    {
        json.WriteNumber("user_id", userId);
        json.WriteNumber("content_type", contentType);
    }

    private void Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        output.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n");
    }
}
