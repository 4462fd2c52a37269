using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Caching;

/// <summary>Tells what a table slot holds: a bare first-layer array or a <see cref="HeldUser"/>.</summary>
internal static class HeldObjects
{
    /// <summary>
    /// True when <paramref name="held"/> is a first-layer array. An exact type test: <c>held is ulong[]</c> is a call to
    /// the runtime's cast helper (array casts allow long[] as ulong[]), paid on every lookup and every probe.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsWords(object held, [NotNullWhen(true)] out ulong[]? words)
    {
        if (held.GetType() == typeof(ulong[]))
        {
            words = Unsafe.As<ulong[]>(held);
            return true;
        }

        words = null;
        return false;
    }

    /// <summary>True when <paramref name="held"/> is a first-layer array (see the other overload).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsWords(object held) => held.GetType() == typeof(ulong[]);
}
