namespace ReadHistory.Server.Topology;

/// <summary>
/// Cache pools → slots → replica endpoints, under ReadHistory:Topology. The proxy routes by it and the CDC groups
/// changes by it (slot = JumpConsistentHash(user, slots in the pool)), so both must read the same topology.
/// </summary>
internal sealed class TopologyOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Topology";

    /// <summary>The cache pools; empty means one pool named "default" served in-process (role all).</summary>
    public List<PoolOptions> Pools { get; set; } = [];

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var tenants = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var p = 0; p < Pools.Count; p++)
        {
            var pool = Pools[p];
            var key = $"{Section}:Pools:{p}";
            if (!IsTag(pool.Name) || pool.Name.Length == 0)
            {
                problems.Add($"{key}:Name: '{pool.Name}' must be 1-64 of a-z, 0-9, '_' and '-'");
            }
            else if (!names.Add(pool.Name))
            {
                problems.Add($"{key}:Name: pool '{pool.Name}' is defined twice");
            }

            foreach (var tenant in pool.Tenants)
            {
                if (!IsTag(tenant))
                {
                    problems.Add($"{key}:Tenants: '{tenant}' must be at most 64 of a-z, 0-9, '_' and '-' (empty = the default tenant)");
                }
                else if (!tenants.TryAdd(tenant, pool.Name))
                {
                    problems.Add($"{key}:Tenants: tenant '{tenant}' is already served by pool '{tenants[tenant]}'");
                }
            }

            if (pool.Slots.Count is < 1 or > 4096)
            {
                problems.Add($"{key}:Slots: {pool.Slots.Count} slots is outside 1 .. 4096");
            }

            for (var s = 0; s < pool.Slots.Count; s++)
            {
                var replicas = pool.Slots[s].Replicas;
                if (replicas.Count is < 1 or > 16)
                {
                    problems.Add($"{key}:Slots:{s}:Replicas: {replicas.Count} replicas is outside 1 .. 16");
                }

                foreach (var replica in replicas)
                {
                    if (!Uri.TryCreate(replica, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                    {
                        problems.Add($"{key}:Slots:{s}:Replicas: '{replica}' is not an http(s) URI");
                    }
                }
            }
        }
    }

    private static bool IsTag(string text) =>
        text.Length <= 64 && text.All(static c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');
}
