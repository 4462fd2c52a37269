using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// A client Ingest stream at the proxy: each message joins the open segment of its slot and first replica (the one the
/// session routes to, so read-your-writes holds as for MarkRead); a segment is sent as one internal Ingest stream once
/// it holds a quarter of the bound, or when the client stream ends. At most <c>maxRowsInFlight</c> rows are held,
/// buffered or sent and unacknowledged: past it the proxy sends what it buffered and waits for the oldest segment. A
/// replica failure resends the whole segment to the next replica (<see cref="ProxyBackend.SendSegmentAsync"/>), so
/// a segment's rows are acknowledged once, by the node that wrote them all. The counts are the nodes' counts, summed.
/// </summary>
internal sealed class ProxyIngest(ProxyBackend backend, ServerCallContext context, int maxRowsInFlight) : IIngestSink
{
    private readonly int _segmentRows = Math.Max(1, maxRowsInFlight / 4);
    private readonly Dictionary<(SlotRoute Slot, int Replica), IngestSegment> _open = [];
    private readonly Queue<(Task<IngestResponse> Answer, int Rows)> _sent = new();
    private readonly IngestResponse _total = new();
    private int _rows;

    /// <summary>Rows held: buffered in open segments or sent and not yet answered (tests watch the bound).</summary>
    public int RowsHeld => _rows;

    /// <inheritdoc />
    public async ValueTask AddAsync(MarkReadRequest batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var (slot, replica, key) = backend.RouteIngest(batch, context);
        var rows = batch.Items.Count;
        while (_sent.TryPeek(out var oldest) && oldest.Answer.IsCompleted)
        {
            await RetireAsync().ConfigureAwait(false);
        }

        while (_rows > 0 && _rows + rows > maxRowsInFlight)
        {
            if (_sent.Count == 0)
            {
                SendOpen();
            }

            await RetireAsync().ConfigureAwait(false);
        }

        if (!_open.TryGetValue((slot, replica), out var segment))
        {
            segment = new IngestSegment(slot, key);
            _open.Add((slot, replica), segment);
        }

        segment.Add(batch);
        _rows += rows;
        if (segment.Rows >= _segmentRows)
        {
            _open.Remove((slot, replica));
            Send(segment);
        }
    }

    /// <inheritdoc />
    public async Task<IngestResponse> CompleteAsync()
    {
        SendOpen();
        while (_sent.Count > 0)
        {
            await RetireAsync().ConfigureAwait(false);
        }

        return _total;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _open.Clear();
        while (_sent.TryDequeue(out var sent))
        {
            try
            {
                await sent.Answer.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The stream already failed with its first failure; the other segments' are observed, not reported.
            }
        }

        _rows = 0;
    }

    private void SendOpen()
    {
        foreach (var segment in _open.Values)
        {
            Send(segment);
        }

        _open.Clear();
    }

    private void Send(IngestSegment segment) =>
        _sent.Enqueue((backend.SendSegmentAsync(segment, context), segment.Rows));

    private async Task RetireAsync()
    {
        var answer = await _sent.Peek().Answer.ConfigureAwait(false);
        _rows -= _sent.Dequeue().Rows;
        _total.Accepted += answer.Accepted;
        _total.Rejected += answer.Rejected;
        if (_total.FirstError.Length == 0)
        {
            _total.FirstError = answer.FirstError;
        }
    }
}
