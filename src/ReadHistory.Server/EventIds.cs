namespace ReadHistory.Server;

/// <summary>
/// Every log event id of the server, in one file, in ranges by area (like MySqlConnector's EventIds): a new event takes
/// the next free id of its area. Lives beside Program.cs, not in Hosting, because every room logs and no room may use
/// Hosting.
/// </summary>
/// <remarks>
/// 1000–1099 Hosting: host lifetime.<br/>
/// 1100–1199 Api: calls seen by the API interceptor (logged from Hosting/Log.cs).<br/>
/// 1200–1299 Auth: API keys 1200.<br/>
/// 2000–2999 Storage: schema 2000, ingest 2020, queries 2040, connection 2060.<br/>
/// 3000–3999 Cache: rebuilds 3000, capacity 3020, warm start 3040, second tier 3060, false-positive verifier 3080.<br/>
/// 4000–4099 Cdc: leadership 4000, epochs 4010, errors 4020, stream readers 4050.<br/>
/// 4100–4199 Coherence: tailing 4100, warm start 4105, peer fan-out 4150.<br/>
/// 5000–5999 Proxy: routing table 5000, replica health 5010, passthrough 5020, Exchange 5030, tenant limits 5040.
/// </remarks>
internal static class EventIds
{
    /// <summary>1000: <c>Hosting/Log.cs</c> HostingStarting.</summary>
    public const int HostingStarting = 1000;

    /// <summary>1001: <c>Hosting/Log.cs</c> HostingDraining.</summary>
    public const int HostingDraining = 1001;

    /// <summary>1002: <c>Hosting/Log.cs</c> HostingStopped.</summary>
    public const int HostingStopped = 1002;

    /// <summary>1003: <c>Hosting/Log.cs</c> HostingAnonymous.</summary>
    public const int HostingAnonymous = 1003;

    /// <summary>1200: <c>Auth/Log.cs</c> AuthKeysReloaded.</summary>
    public const int AuthKeysReloaded = 1200;

    /// <summary>1201: <c>Auth/Log.cs</c> AuthKeysReloadRefused.</summary>
    public const int AuthKeysReloadRefused = 1201;

    /// <summary>1100: <c>Hosting/Log.cs</c> ApiCallFailed.</summary>
    public const int ApiCallFailed = 1100;

    /// <summary>1101: <c>Hosting/Log.cs</c> ApiCallCancelled.</summary>
    public const int ApiCallCancelled = 1101;

    /// <summary>1102: <c>Hosting/Log.cs</c> ApiRequestBodyTimedOut.</summary>
    public const int ApiRequestBodyTimedOut = 1102;

    /// <summary>1103: <c>Hosting/Log.cs</c> ApiIngestLimitReached.</summary>
    public const int ApiIngestLimitReached = 1103;

    /// <summary>2000: <c>Storage/Log.cs</c> StorageMigrateStarting.</summary>
    public const int StorageMigrateStarting = 2000;

    /// <summary>2001: <c>Storage/Log.cs</c> StorageMigrateDone.</summary>
    public const int StorageMigrateDone = 2001;

    /// <summary>2002: <c>Storage/Log.cs</c> StorageServerSetupFailed.</summary>
    public const int StorageServerSetupFailed = 2002;

    /// <summary>2020: <c>Storage/Log.cs</c> StorageFlushRetrying.</summary>
    public const int StorageFlushRetrying = 2020;

    /// <summary>2021: <c>Storage/Log.cs</c> StorageFlushFailed.</summary>
    public const int StorageFlushFailed = 2021;

    /// <summary>2022: <c>Storage/Log.cs</c> StorageQueueFull.</summary>
    public const int StorageQueueFull = 2022;

    /// <summary>2023: <c>Storage/Log.cs</c> StorageQueueDelayed.</summary>
    public const int StorageQueueDelayed = 2023;

    /// <summary>2040: <c>Storage/Log.cs</c> StorageForgot.</summary>
    public const int StorageForgot = 2040;

    /// <summary>2041: <c>Storage/Log.cs</c> StoragePreparedStatementsExhausted.</summary>
    public const int StoragePreparedStatementsExhausted = 2041;

    /// <summary>2042: <c>Storage/Log.cs</c> StorageForgetRetrying.</summary>
    public const int StorageForgetRetrying = 2042;

    /// <summary>2060: <c>Storage/Log.cs</c> StorageDatabaseOpened.</summary>
    public const int StorageDatabaseOpened = 2060;

    /// <summary>2061: <c>Storage/Log.cs</c> StorageDatabaseUnreachable.</summary>
    public const int StorageDatabaseUnreachable = 2061;

    /// <summary>3000: <c>Cache/Log.cs</c> CacheRebuildRetrying.</summary>
    public const int CacheRebuildRetrying = 3000;

    /// <summary>3001: <c>Cache/Log.cs</c> CacheRebuildGaveUp.</summary>
    public const int CacheRebuildGaveUp = 3001;

    /// <summary>3002: <c>Cache/Log.cs</c> CacheRebuildBufferFull.</summary>
    public const int CacheRebuildBufferFull = 3002;

    /// <summary>3020: <c>Cache/Log.cs</c> CacheUserCapped.</summary>
    public const int CacheUserCapped = 3020;

    /// <summary>3040: <c>Cache/WarmStartLog.cs</c> CacheWarmStartFinished.</summary>
    public const int CacheWarmStartFinished = 3040;

    /// <summary>3041: <c>Cache/WarmStartLog.cs</c> CacheWarmStartFailed.</summary>
    public const int CacheWarmStartFailed = 3041;

    /// <summary>3042: <c>Cache/WarmStartLog.cs</c> CacheWarmStartLayout.</summary>
    public const int CacheWarmStartLayout = 3042;

    /// <summary>3060: <c>Cache/Log.cs</c> CacheSnapshotTierFailed.</summary>
    public const int CacheSnapshotTierFailed = 3060;

    /// <summary>3061: <c>Cache/Log.cs</c> CacheSnapshotStale.</summary>
    public const int CacheSnapshotStale = 3061;

    /// <summary>3080: <c>Cache/Log.cs</c> CacheVerifierQueryFailed.</summary>
    public const int CacheVerifierQueryFailed = 3080;

    /// <summary>4000: <c>Cdc/Log.cs</c> CdcBecameLeader.</summary>
    public const int CdcBecameLeader = 4000;

    /// <summary>4001: <c>Cdc/Log.cs</c> CdcLeaseLost.</summary>
    public const int CdcLeaseLost = 4001;

    /// <summary>4002: <c>Cdc/Log.cs</c> CdcPublishing.</summary>
    public const int CdcPublishing = 4002;

    /// <summary>4003: <c>Cdc/Log.cs</c> CdcLeaseReleased.</summary>
    public const int CdcLeaseReleased = 4003;

    /// <summary>4010: <c>Cdc/Log.cs</c> CdcNewEpoch.</summary>
    public const int CdcNewEpoch = 4010;

    /// <summary>4020: <c>Cdc/Log.cs</c> CdcRedisRetry.</summary>
    public const int CdcRedisRetry = 4020;

    /// <summary>4021: <c>Cdc/Log.cs</c> CdcPublisherFailed.</summary>
    public const int CdcPublisherFailed = 4021;

    /// <summary>4050: <c>Cdc/Log.cs</c> CdcStreamGap.</summary>
    public const int CdcStreamGap = 4050;

    /// <summary>4051: <c>Cdc/Log.cs</c> CdcCorruptEntry.</summary>
    public const int CdcCorruptEntry = 4051;

    /// <summary>4100: <c>Coherence/Log.cs</c> CoherenceTailing.</summary>
    public const int CoherenceTailing = 4100;

    /// <summary>4101: <c>Coherence/Log.cs</c> CoherenceGap.</summary>
    public const int CoherenceGap = 4101;

    /// <summary>4102: <c>Coherence/Log.cs</c> CoherenceUnreachable.</summary>
    public const int CoherenceUnreachable = 4102;

    /// <summary>4103: <c>Coherence/Log.cs</c> CoherenceReplaying.</summary>
    public const int CoherenceReplaying = 4103;

    /// <summary>4104: <c>Coherence/Log.cs</c> CoherenceCaughtUp.</summary>
    public const int CoherenceCaughtUp = 4104;

    /// <summary>4105: <c>Coherence/Log.cs</c> CoherenceWarmStartPeerNotServing.</summary>
    public const int CoherenceWarmStartPeerNotServing = 4105;

    /// <summary>4106: <c>Coherence/Log.cs</c> CoherenceWarmStartDiscarded.</summary>
    public const int CoherenceWarmStartDiscarded = 4106;

    /// <summary>4150: <c>Coherence/Log.cs</c> PeerFanOutStarting.</summary>
    public const int CoherenceFanOutStarting = 4150;

    /// <summary>4151: <c>Coherence/Log.cs</c> PeerFanOutFailing.</summary>
    public const int CoherenceFanOutFailing = 4151;

    /// <summary>4152: <c>Coherence/Log.cs</c> PeerFanOutResumed.</summary>
    public const int CoherenceFanOutResumed = 4152;

    /// <summary>5000: <c>Proxy/Log.cs</c> ProxyTableApplied.</summary>
    public const int ProxyTableApplied = 5000;

    /// <summary>5001: <c>Proxy/Log.cs</c> ProxyReloadRefused.</summary>
    public const int ProxyReloadRefused = 5001;

    /// <summary>5002: <c>Proxy/Log.cs</c> ProxyChannelRetired.</summary>
    public const int ProxyChannelRetired = 5002;

    /// <summary>5010: <c>Proxy/Log.cs</c> ProxyReplicaDown.</summary>
    public const int ProxyReplicaDown = 5010;

    /// <summary>5011: <c>Proxy/Log.cs</c> ProxyReplicaUp.</summary>
    public const int ProxyReplicaUp = 5011;

    /// <summary>5012: <c>Proxy/Log.cs</c> ProxyReplicaStale.</summary>
    public const int ProxyReplicaStale = 5012;

    /// <summary>5013: <c>Proxy/Log.cs</c> ProxyReplicaFresh.</summary>
    public const int ProxyReplicaFresh = 5013;

    /// <summary>5020: <c>Proxy/Log.cs</c> ProxyPassthrough.</summary>
    public const int ProxyPassthrough = 5020;

    /// <summary>5030: <c>Proxy/Log.cs</c> ExchangeStreamBroke.</summary>
    public const int ProxyExchangeBroke = 5030;

    /// <summary>5040: <c>Proxy/Log.cs</c> ProxyLimitsReloaded.</summary>
    public const int ProxyLimitsReloaded = 5040;

    /// <summary>5041: <c>Proxy/Log.cs</c> ProxyLimitsReloadRefused.</summary>
    public const int ProxyLimitsReloadRefused = 5041;
}
