using System.Collections.Frozen;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// An immutable snapshot of the topology: tenant tag → pool → slots → replicas. A call takes the current table
/// once and routes every attempt by it, so a reload (which swaps in a new table) never changes a call midway.
/// </summary>
/// <remarks>
/// Tenants: a pool serves the tenant tags it lists; a pool that lists none serves the tag equal to its name. The
/// empty (default) tenant goes to the pool listing "" or else to the pool named "default"; any other tag is
/// NOT_FOUND, naming the tenant — a typo in a tenant tag should fail loudly, not fill another tenant's pool.
/// </remarks>
internal sealed class RoutingTable
{
    private readonly FrozenDictionary<string, PoolRoute> _byTenant;

    private RoutingTable(PoolRoute[] pools, FrozenDictionary<string, PoolRoute> byTenant)
    {
        Pools = pools;
        _byTenant = byTenant;
    }

    /// <summary>The pools in configured order.</summary>
    public IReadOnlyList<PoolRoute> Pools { get; }

    /// <summary>The pool serving a tenant tag, or null.</summary>
    public PoolRoute? PoolFor(string tenant) => _byTenant.GetValueOrDefault(tenant);

    /// <summary>Builds a table from a validated topology, taking each replica's endpoint from <paramref name="endpointFor"/>.</summary>
    public static RoutingTable Build(TopologyOptions topology, Func<string, ReplicaEndpoint> endpointFor)
    {
        var pools = new PoolRoute[topology.Pools.Count];
        var byTenant = new Dictionary<string, PoolRoute>(StringComparer.Ordinal);
        for (var p = 0; p < pools.Length; p++)
        {
            var options = topology.Pools[p];
            var pool = pools[p] = new PoolRoute(options.Name);
            var slots = new SlotRoute[options.Slots.Count];
            for (var s = 0; s < slots.Length; s++)
            {
                slots[s] = new SlotRoute(pool, s, options.Slots[s].Replicas.Select(endpointFor).ToArray());
            }

            pool.SetSlots(slots);
            foreach (var tenant in options.Tenants)
            {
                byTenant[tenant] = pool;
            }
        }

        // Implicit tenants only where no pool claims the tag explicitly.
        foreach (var pool in pools)
        {
            if (topology.Pools.First(o => o.Name == pool.Name).Tenants.Count == 0)
            {
                byTenant.TryAdd(pool.Name, pool);
            }
        }

        if (!byTenant.ContainsKey(string.Empty) && pools.FirstOrDefault(static p => p.Name == "default") is { } fallback)
        {
            byTenant[string.Empty] = fallback;
        }

        return new RoutingTable(pools, byTenant.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>Every endpoint the table uses, once each.</summary>
    public HashSet<ReplicaEndpoint> Endpoints()
    {
        var all = new HashSet<ReplicaEndpoint>();
        foreach (var pool in Pools)
        {
            foreach (var slot in pool.Slots)
            {
                all.UnionWith(slot.Replicas);
            }
        }

        return all;
    }
}
