using System.Globalization;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The Redis keys of the change streams and of the publisher's state, laid out for Redis Cluster: every key a script
/// touches together shares one hash tag (the part in braces, which alone picks the cluster hash slot).
/// <code>
/// {prefix}:{cdc}:lease              publisher lease (fencing token "counter-nonce")   } one hash slot: the lease
/// {prefix}:{cdc}:fence              counter the tokens are drawn from (INCR)           } script and the fenced
/// {prefix}:{cdc}:checkpoint         source position + each stream's publish count      } checkpoint write
/// {prefix}:{pool:slot}:stream       the slot's change stream (XADD MAXLEN ~)            } one hash slot per coherence
/// {prefix}:{pool:slot}:state        hash: epoch, fence (newest leader seen), seq        } slot: publish and read scripts
/// </code>
/// Coherence slots spread over the cluster's hash slots by their (pool, slot) tag; the second tier's filter snapshots
/// take a tag per user (<c>{prefix}:t2:{pool:user}:slot</c>, <c>Cache/RedisSnapshotStore</c>) so they spread by user instead.
/// </summary>
internal sealed class CdcKeys
{
    /// <summary>Creates the keys under a prefix (RedisOptions.KeyPrefix).</summary>
    public CdcKeys(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Prefix = prefix;
        Lease = prefix + ":{cdc}:lease";
        Fence = prefix + ":{cdc}:fence";
        Checkpoint = prefix + ":{cdc}:checkpoint";
    }

    /// <summary>The prefix.</summary>
    public string Prefix { get; }

    /// <summary>The publisher lease, holding the leader's fencing token.</summary>
    public string Lease { get; }

    /// <summary>The counter fencing tokens are drawn from (INCR).</summary>
    public string Fence { get; }

    /// <summary>The source position after the last transaction published to every stream, with each stream's publish count then (<see cref="CdcCheckpoint"/>).</summary>
    public string Checkpoint { get; }

    /// <summary>The keys of slot <paramref name="slot"/> of pool <paramref name="pool"/>, all in the hash slot of the tag <c>{pool:slot}</c>.</summary>
    public SlotKeys Slot(string pool, int slot)
    {
        var tag = Prefix + ":{" + pool + ":" + slot.ToString(CultureInfo.InvariantCulture) + "}:";
        return new SlotKeys(tag + "stream", tag + "state");
    }

    /// <summary>The stream of slot <paramref name="slot"/> of pool <paramref name="pool"/>.</summary>
    public string Stream(string pool, int slot) => Slot(pool, slot).Stream;

    /// <summary>Formats an epoch as stored.</summary>
    public static string FormatEpoch(ulong epoch) => epoch.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses a stored epoch; 0 when absent or malformed.</summary>
    public static ulong ParseEpoch(string? text) =>
        text is not null && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch) ? epoch : 0;
}
