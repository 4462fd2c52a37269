using System.Globalization;
using ReadHistory.Api.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Client;

namespace ReadHistory.LoadGen.Targets;

/// <summary>The public API (<c>readhistory.v1.ReadHistory</c>) at an endpoint: a proxy or a process with role all.</summary>
internal sealed class ServiceTarget : ILoadTarget
{
    private static readonly HttpClient MetricsClient = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly TargetOptions _options;
    private readonly uint _contentType;
    private readonly GrpcChannel[] _channels;
    private readonly CallInvoker[] _invokers;
    private int _next;

    /// <summary>A client of the service described by <paramref name="options"/>.</summary>
    public ServiceTarget(TargetOptions options, uint contentType)
    {
        _options = options;
        _contentType = contentType;
        _channels = new GrpcChannel[Math.Max(1, options.Channels)];
        _invokers = new CallInvoker[_channels.Length];
        for (var i = 0; i < _channels.Length; i++)
        {
            _channels[i] = GrpcChannel.ForAddress(options.Endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
            _invokers[i] = _channels[i].CreateCallInvoker();
        }
    }

    /// <inheritdoc />
    public string Name => "service";

    /// <inheritdoc />
    public Task PrepareAsync(TextWriter log, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task CheckAsync(CheckCall call, CancellationToken cancellationToken)
    {
        var response = await UnaryAsync(ReadHistoryMethods.Check, ToRequest(call), cancellationToken).ConfigureAwait(false);
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

        var response = await UnaryAsync(ReadHistoryMethods.BatchCheck, request, cancellationToken).ConfigureAwait(false);
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

        await UnaryAsync(ReadHistoryMethods.MarkRead, request, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<MemoryFigure?> MeasureMemoryAsync(long rowsTouched, CancellationToken cancellationToken)
    {
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

            return new MemoryFigure((long)bytes, rowsTouched, "readhistory_cache_bytes / rows of the users checked");
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
