using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.Proxy;

/// <summary>Source-generated log methods of the proxy (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.ProxyTableApplied, Level = LogLevel.Information, Message = "proxy: routing table {Version} in force: {Pools} pools, {Slots} slots, {Replicas} replicas")]
    public static partial void TableApplied(ILogger logger, int version, int pools, int slots, int replicas);

    [LoggerMessage(EventId = EventIds.ProxyReloadRefused, Level = LogLevel.Error, Message = "proxy: topology reload refused, the previous table stays: {Problems}")]
    public static partial void ReloadRefused(ILogger logger, string problems);

    [LoggerMessage(EventId = EventIds.ProxyChannelRetired, Level = LogLevel.Information, Message = "proxy: channel to {Address} retired; closing it in {GraceSeconds} s")]
    public static partial void ChannelRetired(ILogger logger, string address, double graceSeconds);

    [LoggerMessage(EventId = EventIds.ProxyReplicaDown, Level = LogLevel.Warning, Message = "proxy: replica {Address} failed its health check; routing around it")]
    public static partial void ReplicaDown(ILogger logger, string address);

    [LoggerMessage(EventId = EventIds.ProxyReplicaUp, Level = LogLevel.Information, Message = "proxy: replica {Address} is serving again")]
    public static partial void ReplicaUp(ILogger logger, string address);

    [LoggerMessage(EventId = EventIds.ProxyReplicaStale, Level = LogLevel.Warning, Message = "proxy: replica {Address} is past its staleness bound; preferring its fresh peers")]
    public static partial void ReplicaStale(ILogger logger, string address);

    [LoggerMessage(EventId = EventIds.ProxyReplicaFresh, Level = LogLevel.Information, Message = "proxy: replica {Address} is fresh again")]
    public static partial void ReplicaFresh(ILogger logger, string address);

    [LoggerMessage(EventId = EventIds.ProxyExchangeBroke, Level = LogLevel.Warning, Message = "proxy: an Exchange stream to {Address} broke with {InFlight} requests in flight, which fail over; it reopens at its next turn ({Cause})")]
    public static partial void ExchangeStreamBroke(ILogger logger, string address, int inFlight, string cause);

    [LoggerMessage(EventId = EventIds.ProxyPassthrough, Level = LogLevel.Warning, Message = "proxy: every replica of pool {Pool} slot {Slot} is down; answering in passthrough")]
    public static partial void Passthrough(ILogger logger, string pool, int slot);

    [LoggerMessage(EventId = EventIds.ProxyLimitsReloaded, Level = LogLevel.Information, Message = "proxy: tenant and key rate limits reloaded: {Tenants} tenants limited")]
    public static partial void LimitsReloaded(ILogger logger, int tenants);

    [LoggerMessage(EventId = EventIds.ProxyLimitsReloadRefused, Level = LogLevel.Error, Message = "proxy: rate limits not reloaded, the limits in force stay: {Problems}")]
    public static partial void LimitsReloadRefused(ILogger logger, string problems);
}
