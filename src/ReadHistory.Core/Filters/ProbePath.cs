using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReadHistory.Core.Filters;

/// <summary>Which implementation tests a key against its block; all three give identical answers (benchmarks compare them).</summary>
public enum ProbePath
{
    /// <summary>Plain 64-bit loads and shifts, one probe at a time (the reference the tests compare with).</summary>
    Scalar,

    /// <summary>AVX2: eight probes per round, the two 256-bit halves of the block selected by a blend.</summary>
    Vector256,

    /// <summary>AVX-512: up to sixteen probes in one permute of the whole 512-bit block.</summary>
    Vector512,
}

/// <summary>The fastest <see cref="ProbePath"/> this CPU runs.</summary>
public static class ProbePaths
{
    /// <summary>Vector512 where the runtime accelerates it, AVX2 otherwise, scalar on anything else.</summary>
    public static readonly ProbePath Best =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? ProbePath.Vector512
        : Avx2.IsSupported ? ProbePath.Vector256
        : ProbePath.Scalar;

    /// <summary>True when <paramref name="path"/> can run on this CPU.</summary>
    public static bool IsSupported(ProbePath path) => path switch
    {
        ProbePath.Scalar => true,
        ProbePath.Vector256 => Avx2.IsSupported,
        ProbePath.Vector512 => Avx512F.IsSupported,
        _ => false,
    };
}
