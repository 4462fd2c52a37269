using ReadHistory.Server.Api.Admission;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The proxy's settings, under ReadHistory:Proxy (the topology itself is ReadHistory:Topology). Read once at start;
/// only the topology is reloaded while running.
/// </summary>
internal sealed class ProxyOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "ReadHistory:Proxy";

    /// <summary>The time a call may take when the caller sent no grpc-timeout (the feed's client timeout).</summary>
    public TimeSpan DefaultBudget { get; set; }

    /// <summary>How often each replica is probed with grpc.health.v1 Check.</summary>
    public TimeSpan HealthCheckInterval { get; set; }

    /// <summary>How long one probe may take before the replica counts as down.</summary>
    public TimeSpan HealthCheckTimeout { get; set; }

    /// <summary>Passive ejection: the share of failed calls in <see cref="SamplingDuration"/> that opens a replica's breaker.</summary>
    public double FailureRatio { get; set; }

    /// <summary>Passive ejection: calls needed in <see cref="SamplingDuration"/> before the ratio counts.</summary>
    public int MinimumThroughput { get; set; }

    /// <summary>Passive ejection: the window the failure ratio is measured over.</summary>
    public TimeSpan SamplingDuration { get; set; }

    /// <summary>How long an ejected replica gets no traffic before one call probes it again (half-open).</summary>
    public TimeSpan BreakDuration { get; set; }

    /// <summary>Nodes of other slots tried in passthrough when every replica of the user's slot is down.</summary>
    public int PassthroughAttempts { get; set; }

    /// <summary>How long a channel to a replica removed by a reload stays open for the calls still using it.</summary>
    public TimeSpan RetiredChannelGrace { get; set; }

    /// <summary>
    /// Whether Check, Filter, MarkRead and BatchCheck are forwarded as the client's bytes and the nodes' answers relayed as bytes
    /// (<see cref="ForwardingMethods"/>); false decodes and re-encodes both, as before. Read once at start.
    /// </summary>
    public bool ForwardBytes { get; set; }

    /// <summary>
    /// Exchange streams per replica carrying the forwarded Check, Filter and MarkRead (with <see cref="ForwardBytes"/>),
    /// several requests in flight on each; 0 sends each as a unary call. Read once at start.
    /// </summary>
    public int StreamsPerNode { get; set; }

    /// <summary>
    /// Calls in flight the proxy sends to one replica, per class (0 = not bounded): set to the nodes'
    /// ReadHistory:Admission:Node bounds, so that the proxy refuses at once what the node would refuse, without sending it.
    /// </summary>
    public AdmissionLimits ReplicaInFlight { get; set; } = new();

    /// <summary>Budget of one internal Ingest stream (a slot's share of a client stream) when the client set no deadline.</summary>
    public TimeSpan IngestSegmentTimeout { get; set; }

    /// <summary>Limits per tenant tag (the call rate per API key on the tenant, or shared by anonymous callers); the empty (default) tenant's entry is keyed "default".</summary>
    public Dictionary<string, TenantLimitOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        Check(DefaultBudget, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10), "DefaultBudget", problems);
        Check(HealthCheckInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10), "HealthCheckInterval", problems);
        Check(HealthCheckTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), "HealthCheckTimeout", problems);
        Check(SamplingDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1), "SamplingDuration", problems);
        Check(BreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1), "BreakDuration", problems);
        Check(RetiredChannelGrace, TimeSpan.Zero, TimeSpan.FromHours(1), "RetiredChannelGrace", problems);
        Check(IngestSegmentTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), "IngestSegmentTimeout", problems);
        if (FailureRatio is <= 0 or > 1)
        {
            problems.Add($"{Section}:FailureRatio: {FailureRatio} is outside (0, 1]");
        }

        if (MinimumThroughput < 2)
        {
            problems.Add($"{Section}:MinimumThroughput: {MinimumThroughput} is below 2");
        }

        if (StreamsPerNode is < 0 or > 64)
        {
            problems.Add($"{Section}:StreamsPerNode: {StreamsPerNode} is outside 0 .. 64");
        }

        if (PassthroughAttempts is < 0 or > 16)
        {
            problems.Add($"{Section}:PassthroughAttempts: {PassthroughAttempts} is outside 0 .. 16");
        }

        ReplicaInFlight.Validate(Section + ":ReplicaInFlight", problems);
        foreach (var (tenant, limits) in Tenants)
        {
            if (limits.CallsPerSecond < 0 || limits.Burst < 0 || limits.MaxIdsPerCall < 0)
            {
                problems.Add($"{Section}:Tenants:{tenant}: limits must not be negative (0 = unlimited)");
            }

            foreach (var (key, own) in limits.Keys)
            {
                if (own.CallsPerSecond < 0 || own.Burst < 0)
                {
                    problems.Add($"{Section}:Tenants:{tenant}:Keys:{key}: limits must not be negative (0 = the tenant's)");
                }
            }
        }
    }

    private static void Check(TimeSpan value, TimeSpan min, TimeSpan max, string key, List<string> problems)
    {
        if (value < min || value > max)
        {
            problems.Add($"{Section}:{key}: {value} is outside {min} .. {max}");
        }
    }
}
