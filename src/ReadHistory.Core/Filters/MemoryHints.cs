using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ReadHistory.Core.Filters;

/// <summary>
/// Cache hints for walks over many heap objects in an order unrelated to where they live (a cache table's slots):
/// asking for an object a few steps ahead lets the memory fetches of several objects overlap instead of each step
/// waiting ~100 ns for its own.
/// </summary>
internal static class MemoryHints
{
    /// <summary>
    /// Starts loading the first cache line of <paramref name="held"/> (its method table and first fields) into every
    /// cache level; a no-op for null and where the CPU has no prefetch instruction. Only a hint: if the collector moves
    /// the object meanwhile, the stale line is fetched for nothing (a prefetch never faults).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch(object? held)
    {
        if (Sse.IsSupported && held is not null)
        {
            Sse.Prefetch0((void*)Unsafe.As<object, nint>(ref held));
        }
    }

    /// <summary>Starts loading the cache line at <paramref name="address"/> (inside a pinned or fixed array); a no-op without a prefetch instruction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch(void* address)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(address);
        }
    }
}
