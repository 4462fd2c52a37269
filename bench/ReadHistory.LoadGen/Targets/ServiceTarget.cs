using System.Globalization;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Client;

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
    private readonly GrpcChannel[] _channels;
    private readonly CallInvoker[] _invokers;
    private int _next;

    /// <summary>A client of the service described by <paramref name="options"/>; <paramref name="direct"/> = the cache node's internal API.</summary>
    public ServiceTarget(TargetOptions options, uint contentType, bool direct = false)
    {
        _options = options;
        _contentType = contentType;
        _direct = direct;
        var endpoint = direct ? options.NodeEndpoint ?? options.Endpoint : options.Endpoint;
        _channels = new GrpcChannel[Math.Max(1, options.Channels)];
        _invokers = new CallInvoker[_channels.Length];
        for (var i = 0; i < _channels.Length; i++)
        {
            _channels[i] = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
            _invokers[i] = _channels[i].CreateCallInvoker();
        }
    }

    /// <inheritdoc />
    public string Name => _direct ? "service-direct" : "service";

    /// <inheritdoc />
    public Task PrepareAsync(TextWriter log, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task CheckAsync(CheckCall call, CancellationToken cancellationToken)
    {
        var request = ToRequest(call);
        var response = _direct
            ? await UnaryAsync(CacheNodeMethods.Check, new CacheCheckRequest { Request = request }, cancellationToken).ConfigureAwait(false)
            : await UnaryAsync(ReadHistoryMethods.Check, request, cancellationToken).ConfigureAwait(false);
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

        var response = _direct
            ? await UnaryAsync(CacheNodeMethods.BatchCheck, new CacheBatchCheckRequest { Request = request }, cancellationToken).ConfigureAwait(false)
            : await UnaryAsync(ReadHistoryMethods.BatchCheck, request, cancellationToken).ConfigureAwait(false);
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
            await UnaryAsync(CacheNodeMethods.MarkRead, new CacheMarkReadRequest { Request = request }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await UnaryAsync(ReadHistoryMethods.MarkRead, request, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<MemoryFigure?> MeasureMemoryAsync(long rowsTouched, CancellationToken cancellationToken)
    {
        // The cache node's own accounting (CacheNode.Stats, at --node-endpoint, else at --endpoint when that process
        // holds the cache role); a proxy answers Stats UNIMPLEMENTED, then readhistory_cache_bytes from /metrics.
        {
            try
            {
                using var channel = GrpcChannel.ForAddress(_options.NodeEndpoint ?? _options.Endpoint);
                var stats = await channel.CreateCallInvoker().AsyncUnaryCall(CacheNodeMethods.Stats, null,
                    new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken), new StatsRequest()).ResponseAsync.ConfigureAwait(false);
                var bytes = stats.Pools.Sum(static p => (long)p.Bytes);
                var users = stats.Pools.Sum(static p => (long)p.Users);
                return new MemoryFigure(bytes, rowsTouched, string.Create(CultureInfo.InvariantCulture,
                    $"CacheNode.Stats bytes of {users:N0} cached users / preloaded rows of the users checked"));
            }
            catch (RpcException)
            {
                // Not a cache node (a proxy answers UNIMPLEMENTED) or not reachable: try the metrics.
            }
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

            return new MemoryFigure((long)bytes, rowsTouched, "readhistory_cache_bytes / preloaded rows of the users checked");
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

    private async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>
        where TResponse : class, Google.Protobuf.IMessage<TResponse>
    {
        var invoker = _invokers[(int)((uint)Interlocked.Increment(ref _next) % (uint)_invokers.Length)];
        using var call = invoker.AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow + _options.Deadline, cancellationToken: cancellationToken), request);
        return await call.ResponseAsync.ConfigureAwait(false);
    }
}
