using ReadHistory.Api;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>The installing stage of warm start, and the HTTP/2 settings of its channel.</summary>
internal sealed partial class WarmStarter
{
    private SocketsHttpHandler CreateHandler()
    {
        var handler = ServiceChannels.CreateHandler();
        // The default window (64 KiB, grown by RTT estimates that loopback keeps tiny) had the peer wait for a
        // WINDOW_UPDATE every few frames; WarmStartOptions.WindowBytes says why it is not the largest either.
        handler.InitialHttp2StreamWindowSize = _options.WindowBytes;
        handler.ConnectTimeout = TimeSpan.FromSeconds(10);
        _options.Tls?.ConfigureClient(handler);
        return handler;
    }

    /// <summary>
    /// Installs the filters a chunk completes (validated; see <see cref="FilterTable.TryInstallWarm"/>), keeping the
    /// parts of one it leaves open in <paramref name="assembler"/>; false when the budget is full. Synchronous and
    /// optimized from its first call: it runs for every filter of the stream.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool InstallParts(List<SnapshotPart> parts, WarmStartAssembler assembler, BloomFilterOptions filterOptions, byte[] stamp, List<ulong> installed, Action<long> addBytes, ref int received)
    {
        foreach (var part in parts)
        {
            if (!assembler.TryAccept(part, out var userId, out var snapshot))
            {
                continue;
            }

            received++;
            UserFilter filter;
            try
            {
                filter = UserFilter.ReadSnapshot(snapshot.Span, filterOptions, stamp);
            }
            catch (FilterSnapshotException e)
            {
                throw new InvalidDataException($"Snapshot stream: user {userId}'s filter (#{received} of the stream) was rejected: {e.Message}", e);
            }

            assembler.Release();
            switch (_cache.InstallWarm(userId, filter))
            {
                case WarmStartInstallOutcome.Installed:
                    installed.Add(userId);
                    addBytes(snapshot.Length);
                    Metrics.Installed(snapshot.Length);
                    break;
                case WarmStartInstallOutcome.BudgetFull:
                    return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Puts filters back together, validates and installs them, chunk after chunk, until the last chunk
    /// (<see cref="WarmStartOutcome.Completed"/>, or <see cref="WarmStartOutcome.BudgetFull"/> when the peer marks it
    /// truncated at the bytes asked) or a full budget (<see cref="WarmStartOutcome.BudgetFull"/>). On any
    /// way out but the last chunk it cancels <paramref name="stop"/>, which ends the receiving. Each chunk's pooled buffer
    /// goes back once the chunk is done (its bytes are installed or copied into the assembler).
    /// </summary>
    private async Task<WarmStartOutcome> InstallAsync(ChannelReader<(DecodedChunk Parts, bool Last, bool Truncated)> chunks, List<ulong> installed, Action<long> addBytes, CancellationTokenSource stop)
    {
        var filterOptions = _cache.Options.Filter;
        using var assembler = new WarmStartAssembler(Math.Min(FilterSnapshot.MaxLength(filterOptions.MaxBytes), Array.MaxLength));
        var stamp = new byte[FilterSnapshotHeader.StampSize];
        var received = 0;
        var completed = false;
        try
        {
            await foreach (var (decoded, last, truncated) in chunks.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                using var chunk = decoded;
                if (!InstallParts(chunk.Parts, assembler, filterOptions, stamp, installed, addBytes, ref received))
                {
                    // Hottest first: what follows is colder; stop here (ending the call cancels the peer's stream).
                    return WarmStartOutcome.BudgetFull;
                }

                if (last)
                {
                    if (assembler.HasPending)
                    {
                        throw new InvalidDataException("Snapshot stream: the last chunk ended inside a filter; expected its remaining parts.");
                    }

                    // The peer stopped at the bytes this node's budget had left, with filters it did not send.
                    completed = true;
                    return truncated ? WarmStartOutcome.BudgetFull : WarmStartOutcome.Completed;
                }
            }

            // The receiving side ended the channel without a last chunk: it reports why.
            throw new OperationCanceledException("the Snapshot stream was not received to its end");
        }
        finally
        {
            if (!completed)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }
        }
    }
}
