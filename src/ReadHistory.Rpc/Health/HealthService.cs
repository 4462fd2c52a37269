using System.Threading.Channels;
using ReadHistory.Rpc.Health.V1;
using ReadHistory.Rpc.Server;
using ServingStatus = ReadHistory.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ReadHistory.Rpc.Health;

/// <summary>
/// The standard health service. Holds a status per service name; "" stands for the whole server and starts as
/// SERVING (as grpc-java's HealthStatusManager does), every other name is unknown until set. Map it with
/// <c>app.MapGrpcService(health.CreateDefinition())</c>. Thread-safe.
/// </summary>
public sealed class HealthService
{
    private static readonly HealthCheckResponse[] Responses =
    [
        new() { Status = ServingStatus.Unknown },
        new() { Status = ServingStatus.Serving },
        new() { Status = ServingStatus.NotServing },
        new() { Status = ServingStatus.ServiceUnknown },
    ];

    private static readonly Status NotFound = new(StatusCode.NotFound, "unknown service");

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServingStatus> _statuses = new(StringComparer.Ordinal) { [string.Empty] = ServingStatus.Serving };
    private readonly Dictionary<string, List<Channel<ServingStatus>>> _watchers = new(StringComparer.Ordinal);

    /// <summary>Sets the status of a service ("" = the whole server) and tells its watchers.</summary>
    public void SetStatus(string service, ServingStatus status)
    {
        ArgumentNullException.ThrowIfNull(service);
        lock (_lock)
        {
            if (_statuses.TryGetValue(service, out var old) && old == status)
            {
                return;
            }

            _statuses[service] = status;
            Notify(service, status);
        }
    }

    /// <summary>Forgets a service: Check answers NOT_FOUND, watchers see SERVICE_UNKNOWN.</summary>
    public void ClearStatus(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        lock (_lock)
        {
            if (_statuses.Remove(service))
            {
                Notify(service, ServingStatus.ServiceUnknown);
            }
        }
    }

    /// <summary>The status of a service, or null when it is not registered.</summary>
    public ServingStatus? GetStatus(string service)
    {
        lock (_lock)
        {
            return _statuses.TryGetValue(service, out var status) ? status : null;
        }
    }

    /// <summary>The Check handler.</summary>
    public Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var status = GetStatus(request.Service);
        return status is { } known
            ? Task.FromResult(Responses[(int)known])
            : Task.FromException<HealthCheckResponse>(new RpcException(NotFound));
    }

    /// <summary>The Watch handler: the current status (SERVICE_UNKNOWN when not registered), then each change, until cancelled.</summary>
    public async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);

        // Capacity 1, oldest dropped: a slow watcher skips intermediate states but always ends on the latest.
        var changes = Channel.CreateBounded<ServingStatus>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        ServingStatus current;
        lock (_lock)
        {
            current = _statuses.TryGetValue(request.Service, out var status) ? status : ServingStatus.ServiceUnknown;
            if (!_watchers.TryGetValue(request.Service, out var list))
            {
                list = [];
                _watchers[request.Service] = list;
            }

            list.Add(changes);
        }

        try
        {
            await responseStream.WriteAsync(Responses[(int)current]).ConfigureAwait(false);
            var token = context.CancellationToken;
            while (await changes.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (changes.Reader.TryRead(out var next))
                {
                    if (next != current)
                    {
                        current = next;
                        await responseStream.WriteAsync(Responses[(int)current]).ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                if (_watchers.TryGetValue(request.Service, out var list))
                {
                    list.Remove(changes);
                    if (list.Count == 0)
                    {
                        _watchers.Remove(request.Service);
                    }
                }
            }
        }
    }

    /// <summary>The service definition to map with <c>MapGrpcService</c>.</summary>
    public ServerServiceDefinition CreateDefinition() =>
        ServerServiceDefinition.CreateBuilder(HealthMethods.ServiceName)
            .AddUnaryMethod(HealthMethods.Check, Check)
            .AddServerStreamingMethod(HealthMethods.Watch, Watch)
            .Build();

    private void Notify(string service, ServingStatus status)
    {
        if (_watchers.TryGetValue(service, out var list))
        {
            foreach (var watcher in list)
            {
                watcher.Writer.TryWrite(status);
            }
        }
    }
}
