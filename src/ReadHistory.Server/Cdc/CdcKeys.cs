using System.Globalization;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The Redis keys of the change streams and of the publisher's state. A stream key carries its pool and slot in a
/// Redis Cluster hash tag (<c>rh:stream:{feed:3}</c>) so that slots spread over a cluster.
/// </summary>
internal sealed class CdcKeys
{
    /// <summary>Creates the keys under a prefix (RedisOptions.KeyPrefix).</summary>
    public CdcKeys(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Prefix = prefix;
        Epoch = prefix + ":epoch";
        Checkpoint = prefix + ":cdc:checkpoint";
        Lease = prefix + ":cdc:lease";
        Fence = prefix + ":cdc:fence";
    }

    /// <summary>The prefix.</summary>
    public string Prefix { get; }

    /// <summary>The current epoch (16 hex digits). It vanishes with a FLUSHALL or a restart without persistence, which is how a lost Redis is noticed.</summary>
    public string Epoch { get; }

    /// <summary>The source position after the last published transaction.</summary>
    public string Checkpoint { get; }

    /// <summary>The publisher lease, holding the leader's fencing token.</summary>
    public string Lease { get; }

    /// <summary>The counter fencing tokens are drawn from (INCR).</summary>
    public string Fence { get; }

    /// <summary>The stream of slot <paramref name="slot"/> of pool <paramref name="pool"/>.</summary>
    public string Stream(string pool, int slot) =>
        Prefix + ":stream:{" + pool + ":" + slot.ToString(CultureInfo.InvariantCulture) + "}";

    /// <summary>Formats an epoch as stored.</summary>
    public static string FormatEpoch(ulong epoch) => epoch.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses a stored epoch; 0 when absent or malformed.</summary>
    public static ulong ParseEpoch(string? text) =>
        text is not null && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch) ? epoch : 0;
}
