using ReadHistory.Core.Routing;

namespace ReadHistory.LoadGen.Model;

/// <summary>A tiny deterministic generator (SplitMix64) seeded per call, so a call's content does not depend on timing.</summary>
internal struct SplitMix
{
    private ulong _state;

    /// <summary>A generator for stream <paramref name="stream"/>, item <paramref name="index"/> of seed <paramref name="seed"/>.</summary>
    public SplitMix(ulong seed, ulong stream, ulong index) => _state = Mix64.Combine(Mix64.Combine(seed, stream), index);

    /// <summary>The next 64-bit word.</summary>
    public ulong Next()
    {
        _state += 0x9e3779b97f4a7c15UL;
        return Mix64.Finalize(_state);
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextUnit() => WorkloadModel.ToUnit(Next());

    /// <summary>A uniform integer in [0, <paramref name="bound"/>).</summary>
    public long NextBelow(long bound) => (long)(Next() % (ulong)bound);
}
