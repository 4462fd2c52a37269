namespace ReadHistory.Server.Hosting;

/// <summary>The roles one readhistory process can run; <c>all</c> is the embedded single-machine default.</summary>
[Flags]
internal enum ServerRoles
{
    /// <summary>No role (invalid on its own).</summary>
    None = 0,

    /// <summary>The stateless front door clients call.</summary>
    Proxy = 1,

    /// <summary>A cache node holding per-user filters for one slot replica.</summary>
    Cache = 2,

    /// <summary>The binlog change publisher.</summary>
    Cdc = 4,

    /// <summary>Every role in one process.</summary>
    All = Proxy | Cache | Cdc,
}

/// <summary>Parses role lists such as "all" or "proxy,cache".</summary>
internal static class ServerRolesParser
{
    /// <summary>Parses a comma-separated role list; throws <see cref="FormatException"/> naming the bad word.</summary>
    public static ServerRoles Parse(string text)
    {
        var roles = ServerRoles.None;
        foreach (var word in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            roles |= word.ToUpperInvariant() switch
            {
                "ALL" => ServerRoles.All,
                "PROXY" => ServerRoles.Proxy,
                "CACHE" => ServerRoles.Cache,
                "CDC" => ServerRoles.Cdc,
                _ => throw new FormatException($"role '{word}' is not one of proxy, cache, cdc, all"),
            };
        }

        return roles == ServerRoles.None ? throw new FormatException("no role given: use proxy, cache, cdc or all") : roles;
    }
}
