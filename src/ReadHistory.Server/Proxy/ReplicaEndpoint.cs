using ReadHistory.Api;
using Grpc.Core;
using Grpc.Net.Client;
using Polly;
using Polly.CircuitBreaker;
using System.Threading.RateLimiting;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Tls;
using HealthClient = Grpc.Health.V1.Health.HealthClient;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// One cache-node replica as the proxy sees it: a pooled channel (one per endpoint, several HTTP/2 connections),
/// the verdict of the active health probe, and a circuit breaker fed by the calls themselves (passive outlier
/// ejection). Shared by every routing table that names the same URI, so a reload keeps its connections.
/// </summary>
internal sealed class ReplicaEndpoint : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly CacheNode.CacheNodeClient _client;
    private readonly CallInvoker _invoker;
    private readonly ResiliencePipeline _breaker;
    private readonly CircuitBreakerStateProvider _breakerState = new();
    private readonly NodeExchange? _exchange;
    private static readonly TimeSpan NoteInterval = TimeSpan.FromMilliseconds(10);
    private volatile bool _probeHealthy = true;
    private volatile bool _stale;
    private volatile bool _disposed;
    private int _failedProbes;
    // When the node last answered a call (any answer of its own, a refusal included), as a TimeProvider timestamp.
    private long _lastAnswered;
    private readonly TimeProvider _time;
    // Indexed by CallClass; null for a class that is not bounded (ReadHistory:Proxy:ReplicaInFlight).
    private readonly ConcurrencyLimiter?[] _inFlight = new ConcurrencyLimiter?[4];
    private readonly int[] _inFlightLimits = new int[4];

    /// <summary>Opens a channel to <paramref name="address"/> (connections are made on first use, with <paramref name="tls"/> when set); <paramref name="logger"/> hears of broken Exchange streams.</summary>
    public ReplicaEndpoint(string address, ProxyOptions options, TimeProvider time, ILogger? logger = null, InternalTls? tls = null)
    {
        Address = address;
        Id = RendezvousHash.KeyOf(address);
        _time = time;
        var handler = ServiceChannels.CreateHandler();
        handler.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
        handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(10);
        handler.ConnectTimeout = TimeSpan.FromSeconds(2);
        // The node's runtime configuration turns off the client's dynamic window sizing (NodeRuntime.props): a fixed
        // 1 MiB stream window lets a large answer (BatchCheck, Filter) arrive without waiting for window updates every
        // 64 KiB, as HTTP/2's default window would make it.
        handler.InitialHttp2StreamWindowSize = 1 << 20;
        tls?.ConfigureClient(handler);
        _channel = ServiceChannels.Create(address, handler, maxReceiveMessageSize: 64 << 20);
        _invoker = _channel.CreateCallInvoker();
        _client = new CacheNode.CacheNodeClient(_invoker);
        Health = new HealthClient(_channel);
        foreach (var callClass in (ReadOnlySpan<CallClass>)[CallClass.Checks, CallClass.Writes, CallClass.Batch])
        {
            var limit = options.ReplicaInFlight.Of(callClass);
            _inFlightLimits[(int)callClass] = limit;
            _inFlight[(int)callClass] = limit > 0 ? new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = limit, QueueLimit = 0 }) : null;
        }

        _exchange = options.StreamsPerNode > 0 ? new NodeExchange(_invoker, address, options.StreamsPerNode, time, logger) : null;
        _breaker = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                StateProvider = _breakerState,
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && !args.Context.CancellationToken.IsCancellationRequested && ReplicaFailures.CountsAgainstReplica(e)),
            })
            .Build();
    }

    /// <summary>The endpoint URI as configured.</summary>
    public string Address { get; }

    /// <summary>The replica's stable id for rendezvous hashing (a hash of its address).</summary>
    public ulong Id { get; }

    /// <summary>Whether calls may be routed here: the last probe answered SERVING and the breaker is not open.</summary>
    public bool IsUsable => _probeHealthy && !_disposed && _breakerState.CircuitState is CircuitState.Closed or CircuitState.HalfOpen;

    /// <summary>
    /// Whether the node said it is past its staleness bound: its health service's CacheNode status was NOT_SERVING at
    /// the last probe, or an answer since came from its stale filters (and no fresh answer from memory came after).
    /// Routing prefers usable replicas that are not stale.
    /// </summary>
    public bool IsStale => _stale;

    /// <summary>Whether the last active probe answered SERVING (optimistically true before the first).</summary>
    public bool ProbeHealthy => _probeHealthy;

    /// <summary>The passive breaker's state.</summary>
    public CircuitState BreakerState => _breakerState.CircuitState;

    /// <summary>The health client for probes, which bypass the breaker.</summary>
    public HealthClient Health { get; }

    /// <summary>
    /// Takes a permit for one call of <paramref name="callClass"/> to this replica, to dispose when its attempt is
    /// done: null when the class is not bounded here, a lease whose IsAcquired is false when it is at its bound.
    /// </summary>
    public RateLimitLease? Enter(CallClass callClass) => _inFlight[(int)callClass]?.AttemptAcquire(1);

    /// <summary>The bound of calls of <paramref name="callClass"/> in flight to this replica (0 = not bounded).</summary>
    public int InFlightLimit(CallClass callClass) => _inFlightLimits[(int)callClass];

    /// <summary>
    /// Records the verdict of an active probe; returns true when the replica's probe state changed. One success brings
    /// a replica back; it goes down after <paramref name="failuresToEject"/> failures in a row, so one slow probe on a
    /// busy machine does not eject it (failed calls eject it sooner through the breaker).
    /// </summary>
    public bool SetProbeHealthy(bool healthy, int failuresToEject = 1)
    {
        _failedProbes = healthy ? 0 : _failedProbes + 1;
        var verdict = healthy || (_failedProbes < failuresToEject && _probeHealthy);
        var changed = _probeHealthy != verdict;
        _probeHealthy = verdict;
        return changed;
    }

    /// <summary>
    /// Whether the node answered a call (an answer, or a status of its own such as a refusal for load) within
    /// <paramref name="window"/>: a node that answers is alive, however slowly its health probe comes back.
    /// </summary>
    public bool AnsweredWithin(TimeSpan window)
    {
        var last = Volatile.Read(ref _lastAnswered);
        return last != 0 && _time.GetElapsedTime(last) <= window;
    }

    /// <summary>
    /// Records whether the node is stale (active probe, or an answer's source); written only on a change, so the
    /// answers of a busy replica do not keep writing a shared field. Returns true when it changed.
    /// </summary>
    public bool SetStale(bool stale)
    {
        if (_stale == stale)
        {
            return false;
        }

        _stale = stale;
        return true;
    }

    /// <summary>
    /// One unary call of the generated CacheNode client through the breaker, bounded by <paramref name="deadline"/>;
    /// <paramref name="method"/> picks the call (a static lambda such as <c>static (c, r, o) =&gt; c.CheckAsync(r, o)</c>).
    /// </summary>
    public Task<TResponse> CallAsync<TRequest, TResponse>(Func<CacheNode.CacheNodeClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> method, TRequest request, DateTime deadline, CancellationToken cancellationToken)
        where TRequest : class
        where TResponse : class =>
        ThroughBreakerAsync(
            static async (context, state) =>
            {
                using var call = state.Method(state.Client, state.Request, new CallOptions(deadline: state.Deadline, cancellationToken: context.CancellationToken));
                return await call.ResponseAsync.ConfigureAwait(false);
            },
            (Client: _client, Method: method, Request: request, Deadline: deadline),
            cancellationToken);

    /// <summary>
    /// One unary call of a CacheNode method with marshallers of its own (the forwarding proxy's,
    /// <see cref="ForwardingMethods"/>) through the same breaker, bounded by <paramref name="deadline"/>.
    /// </summary>
    public Task<TResponse> CallAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, DateTime deadline, CancellationToken cancellationToken)
        where TRequest : class
        where TResponse : class =>
        ThroughBreakerAsync(
            static async (context, state) =>
            {
                using var call = state.Invoker.AsyncUnaryCall(state.Method, null, new CallOptions(deadline: state.Deadline, cancellationToken: context.CancellationToken), state.Request);
                return await call.ResponseAsync.ConfigureAwait(false);
            },
            (Invoker: _invoker, Method: method, Request: request, Deadline: deadline),
            cancellationToken);

    /// <summary>
    /// A forwarded Check, Filter or MarkRead (<paramref name="method"/>: <see cref="ForwardingMethods.NodeCheck"/>,
    /// <see cref="ForwardingMethods.NodeFilter"/> or <see cref="ForwardingMethods.NodeMarkRead"/>) through the breaker,
    /// bounded by <paramref name="deadline"/>: on the replica's Exchange streams (ReadHistory:Proxy:StreamsPerNode above
    /// 0), which answer and fail as the unary call of the same method would, else as that unary call.
    /// </summary>
    public Task<RelayedAnswer> ForwardAsync(Method<ForwardedRequest, RelayedAnswer> method, ForwardedRequest request, DateTime deadline, CancellationToken cancellationToken)
    {
        if (_exchange is not { } exchange)
        {
            return CallAsync(method, request, deadline, cancellationToken);
        }

        return ThroughBreakerAsync(
            static (context, state) => new ValueTask<RelayedAnswer>(state.Exchange.SendAsync(state.Call, state.Request, state.Deadline, context.CancellationToken)),
            (Exchange: exchange, Call: ForwardingMethods.ExchangeCallOf(method), Request: request, Deadline: deadline),
            cancellationToken);
    }

    /// <summary>
    /// Notes that the node answered a call: an answer, or a status that is the node's own (not the transport's, a
    /// deadline's or a broken stream's). At most one write per 10 ms, so that the answers of a busy replica do not keep
    /// writing a shared field.
    /// </summary>
    public void NoteAnswered()
    {
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(Volatile.Read(ref _lastAnswered), now) > NoteInterval)
        {
            Volatile.Write(ref _lastAnswered, now);
        }
    }

    // One attempt through the breaker, with a pooled resilience context.
    private async Task<TResult> ThroughBreakerAsync<TState, TResult>(Func<ResilienceContext, TState, ValueTask<TResult>> attempt, TState state, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            return await _breaker.ExecuteAsync(attempt, context, state).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Closes the Exchange streams and the channel's connections.</summary>
    public void Dispose()
    {
        _disposed = true;
        _exchange?.Dispose();
        foreach (var limiter in _inFlight)
        {
            limiter?.Dispose();
        }

        _channel.Dispose();
    }
}
