using BenchmarkDotNet.Attributes;
using ReadHistory.Core.Filters;

namespace ReadHistory.Benchmarks.Filters;

/// <summary>The probe path of a check, named for the instruction sets (the parameter labels of bench/RESULTS.md).</summary>
public enum CheckPath
{
    /// <summary>Scalar probes.</summary>
    Scalar,

    /// <summary>AVX2 (Vector256).</summary>
    Avx2,

    /// <summary>AVX-512 (Vector512).</summary>
    Avx512,
}

/// <summary>Batch check of 400 ids against one user's filter, per item, on each probe path.</summary>
public class FilterCheckBenchmarks : FilterBenchmarkBase
{
    private int _call;
    private ProbePath _path;
    private CheckPath _checkPath;

    /// <summary>Scalar, AVX2 or AVX-512 probes.</summary>
    [ParamsSource(nameof(Paths))]
    public CheckPath Path
    {
        get => _checkPath;
        set
        {
            _checkPath = value;
            _path = ToProbePath(value);
        }
    }

    /// <summary>The paths this CPU runs.</summary>
    public static IEnumerable<CheckPath> Paths => Enum.GetValues<CheckPath>().Where(p => ProbePaths.IsSupported(ToProbePath(p)));

    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int CheckMany()
    {
        var call = _call++;
        return FilterFor(call).CheckMany(1, Batches[call & 63], Bitmap, _path);
    }

    private static ProbePath ToProbePath(CheckPath path) => path switch
    {
        CheckPath.Avx2 => ProbePath.Vector256,
        CheckPath.Avx512 => ProbePath.Vector512,
        _ => ProbePath.Scalar,
    };
}
