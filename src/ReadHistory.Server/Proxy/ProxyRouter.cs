using Microsoft.Extensions.Primitives;
using ReadHistory.Server.Tls;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// Owns the current <see cref="RoutingTable"/> and the channels behind it. A new topology is validated, built into
/// a new table that reuses the endpoints (and connections) of unchanged URIs, and swapped in atomically; calls in
/// flight finish on the table they started with. Channels no longer named are closed after a grace period. A bad
/// topology is refused and logged and the old table stays.
/// </summary>
internal sealed class ProxyRouter : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ReplicaEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly ProxyOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InternalTls? _tls;
    private readonly List<(ITimer Timer, ReplicaEndpoint Endpoint)> _retiring = [];
    private IDisposable? _reloadSubscription;
    private volatile RoutingTable _table;
    private int _version;
    private bool _disposed;

    /// <summary>Creates the router with its first table; throws when <paramref name="topology"/> is invalid. Channels to the nodes use <paramref name="tls"/> (null: cleartext).</summary>
    public ProxyRouter(TopologyOptions topology, ProxyOptions options, TimeProvider time, ILogger logger, InternalTls? tls = null)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _tls = tls;
        var problems = Problems(topology);
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid topology: " + string.Join("; ", problems), nameof(topology));
        }

        _table = Build(topology);
    }

    /// <summary>The table in force.</summary>
    public RoutingTable Current => _table;

    /// <summary>The number of tables applied so far (1 after construction).</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Raised after a new table is in force (the health checker probes new endpoints at once).</summary>
    public event Action<RoutingTable>? TableChanged;

    /// <summary>Validates and applies a topology; returns the problems (empty = applied).</summary>
    public IReadOnlyList<string> Apply(TopologyOptions topology)
    {
        var problems = Problems(topology);
        if (problems.Count > 0)
        {
            Log.ReloadRefused(_logger, string.Join("; ", problems));
            return problems;
        }

        var table = Build(topology);
        TableChanged?.Invoke(table);
        return problems;
    }

    /// <summary>Re-reads ReadHistory:Topology whenever <paramref name="configuration"/> reloads.</summary>
    public void WatchConfiguration(IConfiguration configuration)
    {
        _reloadSubscription = ChangeToken.OnChange(
            configuration.GetReloadToken,
            () =>
            {
                try
                {
                    Apply(configuration.GetSection(TopologyOptions.Section).Get<TopologyOptions>() ?? new TopologyOptions());
                }
                catch (InvalidOperationException e)
                {
                    // A value that does not bind (a word where a number belongs) is a bad reload like any other.
                    Log.ReloadRefused(_logger, e.Message);
                }
            });
    }

    /// <summary>Stops watching and closes every channel.</summary>
    public void Dispose()
    {
        _reloadSubscription?.Dispose();
        lock (_lock)
        {
            _disposed = true;
            foreach (var (timer, endpoint) in _retiring)
            {
                timer.Dispose();
                endpoint.Dispose();
            }

            _retiring.Clear();

            foreach (var endpoint in _endpoints.Values)
            {
                endpoint.Dispose();
            }

            _endpoints.Clear();
        }
    }

    private static List<string> Problems(TopologyOptions topology)
    {
        var problems = new List<string>();
        topology.Validate(problems);
        if (topology.Pools.Count == 0)
        {
            problems.Add("ReadHistory:Topology:Pools: a proxy needs at least one cache pool");
        }

        return problems;
    }

    private RoutingTable Build(TopologyOptions topology)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var table = RoutingTable.Build(topology, address =>
            {
                if (!_endpoints.TryGetValue(address, out var endpoint))
                {
                    endpoint = new ReplicaEndpoint(address, _options, _time, _logger, _tls);
                    _endpoints.Add(address, endpoint);
                }

                return endpoint;
            });
            var used = table.Endpoints();
            foreach (var (address, endpoint) in _endpoints.ToList())
            {
                if (!used.Contains(endpoint))
                {
                    _endpoints.Remove(address);
                    Retire(endpoint);
                }
            }

            _table = table;
            var version = Interlocked.Increment(ref _version);
            var slots = 0;
            foreach (var pool in table.Pools)
            {
                slots += pool.Slots.Count;
            }

            Log.TableApplied(_logger, version, table.Pools.Count, slots, used.Count);
            return table;
        }
    }

    // Calls that took the old table may still use the endpoint; it closes once they cannot be running any more.
    private void Retire(ReplicaEndpoint endpoint)
    {
        Log.ChannelRetired(_logger, endpoint.Address, _options.RetiredChannelGrace.TotalSeconds);
        ITimer? timer = null;
        timer = _time.CreateTimer(
            _ =>
            {
                endpoint.Dispose();
                lock (_lock)
                {
                    _retiring.RemoveAll(r => ReferenceEquals(r.Endpoint, endpoint));
                }

                timer?.Dispose();
            },
            null,
            _options.RetiredChannelGrace,
            Timeout.InfiniteTimeSpan);
        _retiring.Add((timer, endpoint));
    }
}
