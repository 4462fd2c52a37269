using ReadHistory.Api.V1;

namespace ReadHistory.Server.Api;

/// <summary>
/// The write side of one Ingest stream: takes the stream's valid messages as they arrive, keeps a bounded number of
/// rows in flight, and acknowledges them together. Disposing it without <see cref="CompleteAsync"/> (the stream failed)
/// waits for the writes still in flight and observes their failures, so nothing runs on unwatched.
/// </summary>
internal interface IIngestSink : IAsyncDisposable
{
    /// <summary>Queues a valid message; returns once the stream has room for the next one, or throws the stream's failure.</summary>
    ValueTask AddAsync(MarkReadRequest batch);

    /// <summary>Waits until every queued row is durable and visible; what was accepted (and, through a proxy, what a node refused).</summary>
    Task<IngestResponse> CompleteAsync();
}
