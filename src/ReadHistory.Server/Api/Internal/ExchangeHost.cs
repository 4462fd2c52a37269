using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// What every Exchange stream of a cache node shares: admission control (each request takes a permit of its class, as
/// the unary call would), the RPC metrics (each request counted under the unary method's label), the clock, and the
/// host's stopping signal (a stopping node reads no new requests, answers those in flight, then ends its streams).
/// </summary>
internal sealed class ExchangeHost(AdmissionControl admission, RpcMetrics metrics, TimeProvider time, ILogger<ExchangeHost> logger, IHostApplicationLifetime lifetime)
{
    /// <summary>Admission control of this process.</summary>
    public AdmissionControl Admission => admission;

    /// <summary>The RPC metrics of this process.</summary>
    public RpcMetrics Metrics => metrics;

    /// <summary>The clock of request deadlines.</summary>
    public TimeProvider Time => time;

    /// <summary>Where a handler's unexpected failure is logged.</summary>
    public ILogger Logger => logger;

    /// <summary>Fires when the host begins to stop.</summary>
    public CancellationToken Stopping => lifetime.ApplicationStopping;
}
