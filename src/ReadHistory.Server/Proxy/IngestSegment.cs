using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The messages of one client Ingest stream bound for one replica choice of one slot, sent as one internal Ingest
/// stream. The messages are kept until the node answers, so that a replica failure resends them all to the next
/// replica (every write is idempotent: the rows and bits are the same again).
/// </summary>
internal sealed class IngestSegment(SlotRoute slot, ulong key)
{
    private readonly List<CacheIngestRequest> _messages = [];

    /// <summary>The slot the users of every message live in.</summary>
    public SlotRoute Slot => slot;

    /// <summary>The rendezvous key of the first message (its session, else its user): where the segment goes first.</summary>
    public ulong Key => key;

    /// <summary>Rows (items) in the segment.</summary>
    public int Rows { get; private set; }

    /// <summary>Set by the failover walk when the segment goes to another slot's node in passthrough.</summary>
    public bool Passthrough { get; set; }

    /// <summary>Adds a message.</summary>
    public void Add(MarkReadRequest batch)
    {
        _messages.Add(new CacheIngestRequest { Request = batch });
        Rows += batch.Items.Count;
    }

    /// <summary>
    /// Opens one internal Ingest stream through <paramref name="client"/> and writes every message, shaped as the unary
    /// call the failover walk expects. The node's status wins over a failed write (a node that failed the call makes
    /// the next write fail too, with less to say).
    /// </summary>
    public AsyncUnaryCall<IngestResponse> Send(CacheNode.CacheNodeClient client, CallOptions options)
    {
        var call = client.Ingest(options);
        return new AsyncUnaryCall<IngestResponse>(WriteAllAsync(call), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    private async Task<IngestResponse> WriteAllAsync(AsyncClientStreamingCall<CacheIngestRequest, IngestResponse> call)
    {
        try
        {
            foreach (var message in _messages)
            {
                message.Passthrough = Passthrough;
                await call.RequestStream.WriteAsync(message).ConfigureAwait(false);
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception) when (!call.ResponseAsync.IsCompletedSuccessfully)
        {
            await call.ResponseAsync.ConfigureAwait(false);
            throw;
        }

        return await call.ResponseAsync.ConfigureAwait(false);
    }
}
