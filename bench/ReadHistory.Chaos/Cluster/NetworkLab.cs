using System.Globalization;
using ReadHistory.TestSupport;

namespace ReadHistory.Chaos;

/// <summary>
/// The network of a run, when it may have one (root, iproute2): a namespace for the isolated replica joined to the
/// root namespace by a veth pair on a /24 of its own. The root end carries the address every other process and
/// MariaDB listen on, plus a /32 that only Redis listens on, so a blackhole route inside the namespace cuts the
/// isolated replica off from Redis alone while the proxies, MariaDB and its peers still reach it. Names carry the
/// run id, so two runs cannot collide; everything is removed by name on dispose.
/// </summary>
internal sealed class NetworkLab : IAsyncDisposable
{
    private readonly string _hostLink;

    private NetworkLab(string name, string hostLink, string prefix)
    {
        Namespace = name;
        _hostLink = hostLink;
        HostAddress = prefix + ".1";
        IsolatedAddress = prefix + ".2";
        RedisAddress = prefix + ".3";
    }

    /// <summary>The namespace of the isolated replica.</summary>
    public string Namespace { get; }

    /// <summary>The root end of the veth: MariaDB, the CDC, the proxies and the other replicas listen here.</summary>
    public string HostAddress { get; }

    /// <summary>The isolated replica's address (inside the namespace).</summary>
    public string IsolatedAddress { get; }

    /// <summary>The address Redis listens on (a /32 on the root end).</summary>
    public string RedisAddress { get; }

    /// <summary>Creates the namespace and the link; returns null with the reason when this machine does not allow it.</summary>
    public static async Task<(NetworkLab? Lab, string? Reason)> TryCreateAsync(string runId)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return (null, "not running as root: network namespaces need CAP_NET_ADMIN");
        }

        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
        {
            return (null, "iproute2 (ip) is not installed");
        }

        var prefix = await FreePrefixAsync();
        var lab = new NetworkLab("rhchaos-" + runId, "rhc" + runId + "h", prefix);
        var peer = "rhc" + runId + "n";
        try
        {
            await IpAsync("netns", "add", lab.Namespace);
            await IpAsync("link", "add", lab._hostLink, "type", "veth", "peer", "name", peer);
            await IpAsync("link", "set", peer, "netns", lab.Namespace);
            await IpAsync("addr", "add", lab.HostAddress + "/24", "dev", lab._hostLink);
            await IpAsync("addr", "add", lab.RedisAddress + "/32", "dev", lab._hostLink);
            await IpAsync("link", "set", lab._hostLink, "up");
            await IpAsync("netns", "exec", lab.Namespace, "ip", "addr", "add", lab.IsolatedAddress + "/24", "dev", peer);
            await IpAsync("netns", "exec", lab.Namespace, "ip", "link", "set", peer, "up");
            await IpAsync("netns", "exec", lab.Namespace, "ip", "link", "set", "lo", "up");
            await IpAsync("netns", "exec", lab.Namespace, "ip", "route", "add", "default", "via", lab.HostAddress);
            return (lab, null);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            await lab.DisposeAsync();
            return (null, "could not set up the network namespace: " + e.Message.Split('\n')[0]);
        }
    }

    /// <summary>Cuts the isolated replica off from <paramref name="address"/> (a blackhole route in its namespace).</summary>
    public Task CutAsync(string address) =>
        IpAsync("netns", "exec", Namespace, "ip", "route", "add", "blackhole", address + "/32");

    /// <summary>Removes the cut.</summary>
    public Task HealAsync(string address) =>
        IpAsync("netns", "exec", Namespace, "ip", "route", "del", "blackhole", address + "/32");

    /// <summary>Deletes the link (both ends) and the namespace, by name; failures are ignored (already gone).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var command in new[] { new[] { "link", "del", _hostLink }, ["netns", "del", Namespace] })
        {
            try
            {
                await IpAsync(command);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                // Not created, or gone with the namespace.
            }
        }
    }

    private static Task<string> IpAsync(params string[] arguments) =>
        ChildProcess.RunAsync("ip", arguments, timeout: TimeSpan.FromSeconds(10));

    // A 10.x.y.0/24 that no address or route of this machine uses yet.
    private static async Task<string> FreePrefixAsync()
    {
        var used = await IpAsync("-4", "addr") + await IpAsync("-4", "route");
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var prefix = string.Create(CultureInfo.InvariantCulture, $"10.{200 + Random.Shared.Next(50)}.{Random.Shared.Next(256)}");
            if (!used.Contains(prefix + ".", StringComparison.Ordinal))
            {
                return prefix;
            }
        }

        throw new InvalidOperationException("no free 10.x.y.0/24 found");
    }
}
