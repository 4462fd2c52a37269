using ReadHistory.Api;
using System.Globalization;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.LoadGen.Model;
using Grpc.Core;
using Grpc.Net.Client;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.LoadGen.Targets;

/// <summary>
/// This service: <c>service</c> calls the public API (<c>readhistory.v1.ReadHistory</c>) at the proxy (or a process
/// with role all); <c>service-direct</c> calls one cache node's internal API (<c>readhistory.internal.v1.CacheNode</c>)
/// the way the proxy does, so the two side by side show what the proxy hop costs.
/// </summary>
internal sealed class ServiceTarget : ILoadTarget
{
    private static readonly HttpClient MetricsClient = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly TargetOptions _options;
    private readonly uint _contentType;
    private readonly bool _direct;
    private readonly WorkloadModel? _warm;
    private readonly GrpcChannel[] _channels;
    private readonly (ReadHistoryClient Api, CacheNodeClient Node)[] _clients;
    private readonly (ReadHistoryClient Api, CacheNodeClient Node) _writes;
    private int _next;
    private PoolStats? _warmed;

    /// <summary>
    /// A client of the service described by <paramref name="options"/>; <paramref name="direct"/> = the cache node's
    /// internal API. With <paramref name="warm"/>, <see cref="PrepareAsync"/> first has every user of the model cached
    /// (as the Redis peers load every user), so the run measures the steady state and memory covers every stored read.
    /// </summary>
    public ServiceTarget(TargetOptions options, uint contentType, bool direct = false, WorkloadModel? warm = null)
    {
        _options = options;
        _contentType = contentType;
        _direct = direct;
        _warm = warm;
        var endpoint = direct ? options.NodeEndpoint ?? options.Endpoint : options.Endpoint;
        // Checks spread over --channels connections; writes get a connection of their own so that a flood of checks
        // queued in the client's connections does not hold them back (the server still orders them as it likes).
        _channels = new GrpcChannel[Math.Max(1, options.Channels) + 1];
        _clients = new (ReadHistoryClient, CacheNodeClient)[_channels.Length - 1];
        for (var i = 0; i < _channels.Length; i++)
        {
            // The internal port (service-direct) takes no API key; the public one does when the service requires it.
            _channels[i] = ServiceChannels.Create(endpoint, maxReceiveMessageSize: 64 * 1024 * 1024, bearerToken: direct ? null : options.Token);
        }

        for (var i = 0; i < _clients.Length; i++)
        {
            _clients[i] = (new ReadHistoryClient(_channels[i]), new CacheNodeClient(_channels[i]));
        }

        _writes = (new ReadHistoryClient(_channels[^1]), new CacheNodeClient(_channels[^1]));
    }

    /// <inheritdoc />
    public string Name => _direct ? "service-direct" : "service";

    /// <inheritdoc />
    public TimeSpan? RetryBudget => _options.Deadline;

    /// <inheritdoc />
    public async Task PrepareAsync(TextWriter log, CancellationToken cancellationToken)
    {
        if (_warm is null)
        {
            return;
        }

        // One single-id check per user (an id never written) makes the node cache the user: answered by a point query
        // and a rebuild started on a miss, from memory on a hit. Then wait until no rebuild is left.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var users = _warm.Options.Users;
        var nextRank = -1;
        var failures = 0;
        var workers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int rank;
            while ((rank = Interlocked.Increment(ref nextRank)) < users)
            {
                var request = new CheckRequest { UserId = _warm.UserId(rank), ContentType = _contentType };
                request.ContentIds.Add(WorkloadModel.UnreadId(((ulong)rank + 1) * 0x9E37_79B9_7F4A_7C15UL));
                try
                {
                    var clients = _clients[rank % _clients.Length];
                    var options = Options(TimeSpan.FromSeconds(60), cancellationToken);
                    await (_direct ? clients.Node.CheckAsync(new CacheCheckRequest { Request = request }, options) : clients.Api.CheckAsync(request, options)).ConfigureAwait(false);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        PoolStats? last = null;
        for (var poll = 0; poll < 600; poll++)
        {
            last = await StatsAsync(cancellationToken).ConfigureAwait(false);
            // Every user held, or the budget full (evictions): a budget below the working set never holds them all.
            if (last is null || (last.RebuildsInFlight == 0 && (last.Users + last.CappedUsers >= (ulong)users || last.Evictions > 0)))
            {
                break;
            }

            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        _warmed = last is not null && last.Users + last.CappedUsers >= (ulong)users ? last : null;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Name}: cache warmed in {started.Elapsed.TotalSeconds:F1} s: {last?.Users ?? 0:N0} users cached, {last?.CappedUsers ?? 0:N0} capped, {(last?.Bytes ?? 0) / 1048576.0:F1} MiB, {failures} warm-up checks failed{(_warmed is not null ? string.Empty : " (not every user is cached)")}"));
    }

    /// <inheritdoc />
    public async Task CheckAsync(CheckCall call, CancellationToken cancellationToken)
    {
        var request = ToRequest(call);
        var clients = NextClients();
        var options = Options(_options.Deadline, cancellationToken);
        var response = _direct
            ? await clients.Node.CheckAsync(new CacheCheckRequest { Request = request }, options).ConfigureAwait(false)
            : await clients.Api.CheckAsync(request, options).ConfigureAwait(false);
        Decode(response.ReadBitmap.Span, call.Read);
    }

    /// <inheritdoc />
    public async Task BatchCheckAsync(IReadOnlyList<CheckCall> calls, CancellationToken cancellationToken)
    {
        var request = new BatchCheckRequest();
        foreach (var call in calls)
        {
            request.Requests.Add(ToRequest(call));
        }

        var clients = NextClients();
        var options = Options(_options.Deadline, cancellationToken);
        var response = _direct
            ? await clients.Node.BatchCheckAsync(new CacheBatchCheckRequest { Request = request }, options).ConfigureAwait(false)
            : await clients.Api.BatchCheckAsync(request, options).ConfigureAwait(false);
        if (response.Results.Count != calls.Count)
        {
            throw new InvalidOperationException($"BatchCheck answered {response.Results.Count} results for {calls.Count} entries");
        }

        for (var i = 0; i < calls.Count; i++)
        {
            var result = response.Results[i];
            if (result.StatusCode != 0)
            {
                throw new RpcException(new Status((StatusCode)result.StatusCode, result.StatusMessage));
            }

            Decode(result.Response.ReadBitmap.Span, calls[i].Read);
        }
    }

    /// <inheritdoc />
    public async Task MarkReadAsync(ulong userId, string sessionId, ulong[] ids, CancellationToken cancellationToken)
    {
        var request = new MarkReadRequest { UserId = userId, ContentType = _contentType, SessionId = sessionId };
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var id in ids)
        {
            request.Items.Add(new ReadItem { ContentId = id, ReadAtMs = now });
        }

        if (_direct)
        {
            await _writes.Node.MarkReadAsync(new CacheMarkReadRequest { Request = request }, Options(_options.Deadline, cancellationToken)).ConfigureAwait(false);
        }
        else
        {
            await _writes.Api.MarkReadAsync(request, Options(_options.Deadline, cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<MemoryFigure?> MeasureMemoryAsync(long rowsTouched, CancellationToken cancellationToken)
    {
        // The cache node's own accounting (CacheNode.Stats, at --node-endpoint, else at --endpoint when that process
        // holds the cache role); a proxy answers Stats UNIMPLEMENTED, then readhistory_cache_bytes from /metrics.
        // Warmed: the bytes with every user cached, before the run's writes, over the rows preloaded (rows written by
        // earlier runs against the same node are in the bytes, not in the rows: the first run on a fresh node is exact).
        var stats = await StatsAsync(cancellationToken).ConfigureAwait(false);
        if (_warmed is { } warmed)
        {
            return new MemoryFigure((long)warmed.Bytes, _warm!.TotalRows(), string.Create(CultureInfo.InvariantCulture,
                $"CacheNode.Stats bytes with all {warmed.Users:N0} users cached, before the run / rows preloaded"))
                .WithVerifier(stats);
        }

        if (stats is not null)
        {
            return new MemoryFigure((long)stats.Bytes, rowsTouched, string.Create(CultureInfo.InvariantCulture,
                $"CacheNode.Stats bytes of {stats.Users:N0} cached users / preloaded rows of the users this run checked: an estimate"))
                .WithVerifier(stats);
        }

        if (_options.MetricsUrl is null)
        {
            return null;
        }

        try
        {
            var text = await MetricsClient.GetStringAsync(_options.MetricsUrl, cancellationToken).ConfigureAwait(false);
            double bytes = 0;
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("readhistory_cache_bytes", StringComparison.Ordinal) && !line.StartsWith("readhistory_cache_bytes_", StringComparison.Ordinal))
                {
                    bytes += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                }
            }

            return new MemoryFigure((long)bytes, rowsTouched, "readhistory_cache_bytes / preloaded rows of the users this run checked: an estimate");
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Unpacks an LSB-first bitmap aligned with the candidates.</summary>
    internal static void Decode(ReadOnlySpan<byte> bitmap, bool[] read)
    {
        for (var i = 0; i < read.Length; i++)
        {
            read[i] = (i >> 3) < bitmap.Length && ((bitmap[i >> 3] >> (i & 7)) & 1) != 0;
        }
    }

    private CheckRequest ToRequest(CheckCall call)
    {
        var request = new CheckRequest { UserId = call.UserId, ContentType = _contentType, SessionId = call.SessionId };
        request.ContentIds.Add(call.Ids);
        return request;
    }

    private async Task<PoolStats?> StatsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var channel = ServiceChannels.Create(_options.NodeEndpoint ?? _options.Endpoint);
            var stats = await new CacheNodeClient(channel).StatsAsync(new StatsRequest(), Options(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
            return stats.Pools.Count == 0 ? null : stats.Pools[0];
        }
        catch (RpcException)
        {
            // Not a cache node (a proxy answers UNIMPLEMENTED) or not reachable.
            return null;
        }
    }

    private (ReadHistoryClient Api, CacheNodeClient Node) NextClients() =>
        _clients[(int)((uint)Interlocked.Increment(ref _next) % (uint)_clients.Length)];

    private static CallOptions Options(TimeSpan deadline, CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + deadline, cancellationToken: cancellationToken);
}

/// <summary>The node's measured false-positive rate on a memory figure.</summary>
internal static class VerifiedRate
{
    /// <summary><paramref name="figure"/> with the verifier's figures of <paramref name="stats"/> when it has samples.</summary>
    public static MemoryFigure WithVerifier(this MemoryFigure figure, ReadHistory.Api.Internal.V1.PoolStats? stats) =>
        stats is { FalsePositiveSamples: > 0 }
            ? figure with { VerifiedFalsePositiveRate = stats.FalsePositiveRateMeasured, VerifiedSamples = (long)stats.FalsePositiveSamples }
            : figure;
}
