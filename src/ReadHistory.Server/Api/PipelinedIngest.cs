using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Api;

/// <summary>
/// An Ingest stream on a node (or the database alone): every valid message starts its write at once through the
/// backend's MarkRead path (commit, then the filter's bits and the peers), without waiting for the ones before, so
/// group commit batches the stream's rows; at most <c>maxRowsInFlight</c> rows are written but not yet acknowledged
/// (a larger message goes alone). The stream's count is acknowledged only once every write finished: each is durable
/// and its bits are set, so an acknowledged row is never a false negative. The first failed write fails the stream.
/// </summary>
internal sealed class PipelinedIngest(IReadHistoryBackend backend, ServerCallContext context, int maxRowsInFlight) : IIngestSink
{
    private readonly Queue<(Task Write, int Rows)> _inFlight = new();
    private int _rows;
    private ulong _accepted;

    /// <summary>Rows written but not yet acknowledged (tests watch the bound).</summary>
    public int RowsInFlight => _rows;

    /// <inheritdoc />
    public async ValueTask AddAsync(MarkReadRequest batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var rows = batch.Items.Count;
        while (_inFlight.TryPeek(out var oldest) && (oldest.Write.IsCompleted || _rows + rows > maxRowsInFlight))
        {
            // Writes finish in about the order they were queued (one group-commit queue per shard), so the oldest is
            // the one to wait for; a failure behind it is seen when its turn comes.
            await oldest.Write.ConfigureAwait(false);
            Retire();
        }

        // Bulk: at group commit's queue-delay bound the stream's writes wait for room (and so does the stream, through
        // its bound of rows in flight) instead of failing it.
        Task write;
        using (GroupCommitWriter.BulkScope())
        {
            write = backend.MarkReadAsync(batch, context);
        }

        _inFlight.Enqueue((write, rows));
        _rows += rows;
    }

    /// <inheritdoc />
    public async Task<IngestResponse> CompleteAsync()
    {
        while (_inFlight.TryPeek(out var oldest))
        {
            await oldest.Write.ConfigureAwait(false);
            Retire();
        }

        return new IngestResponse { Accepted = _accepted };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        while (_inFlight.TryDequeue(out var write))
        {
            try
            {
                await write.Write.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The stream already failed with its first failure; the others are observed here, not reported.
            }
        }

        _rows = 0;
    }

    private void Retire()
    {
        var done = _inFlight.Dequeue();
        _rows -= done.Rows;
        _accepted += (ulong)done.Rows;
    }
}
