using System.Diagnostics;

namespace ReadHistory.Benchmarks.Fuzzing;

/// <summary>
/// Runs an in-process fuzz target input after input on a thread of its own, under a watchdog: an input that runs past
/// the hang bound is a finding (the run stops there, the stuck thread left behind); an exception the target does not
/// document is a finding; so is an input that allocates more than its bound.
/// </summary>
internal static class InProcessFuzzLoop
{
    /// <summary>How long one input may take before it counts as a hang (generous: a loaded 2-core machine, GC pauses).</summary>
    public static readonly TimeSpan HangBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs <paramref name="inputs"/> inputs from <paramref name="next"/> through <paramref name="execute"/>, which returns
    /// the outcome's name; <paramref name="documented"/> names the exceptions the target documents (their type name is
    /// the outcome); <paramref name="allocationBound"/> gives the bytes an input may allocate.
    /// </summary>
    public static FuzzReport Run<TInput>(
        FuzzReport report,
        long inputs,
        Func<TInput> next,
        Func<TInput, string> execute,
        Func<Exception, bool> documented,
        Func<TInput, byte[]> reproducer,
        Func<TInput, long> allocationBound)
        where TInput : class
    {
        var started = Stopwatch.GetTimestamp();
        var inputStarted = 0L; // 0 between inputs
        TInput? current = null;
        var thread = new Thread(() =>
        {
            var slowest = 0L;
            for (long n = 0; n < inputs; n++)
            {
                var input = next();
                Volatile.Write(ref current, input);
                var before = GC.GetAllocatedBytesForCurrentThread();
                var start = Stopwatch.GetTimestamp();
                Volatile.Write(ref inputStarted, start);
                string outcome;
                try
                {
                    outcome = execute(input);
                }
                catch (Exception e) when (documented(e))
                {
                    outcome = e.GetType().Name;
                }
                catch (Exception e)
                {
                    outcome = "UNDOCUMENTED " + e.GetType().Name;
                    report.Find("exception " + e.GetType().Name, e.ToString(), reproducer(input));
                }

                var took = Stopwatch.GetTimestamp() - start;
                Volatile.Write(ref inputStarted, 0);
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                slowest = Math.Max(slowest, took);
                if (allocated > report.LargestAllocation.Bytes)
                {
                    report.LargestAllocation = (allocated, reproducer(input).Length);
                }

                if (allocated > allocationBound(input))
                {
                    report.Find("allocation", $"{allocated:N0} bytes allocated, bound {allocationBound(input):N0}", reproducer(input));
                }

                report.Count(outcome);
                report.Inputs = n + 1;
                report.SlowestInput = Stopwatch.GetElapsedTime(0, slowest);
            }

        })
        {
            IsBackground = true,
            Name = "fuzz " + report.Target,
        };
        thread.Start();
        while (!thread.Join(100))
        {
            var at = Volatile.Read(ref inputStarted);
            if (at != 0 && Stopwatch.GetElapsedTime(at) > HangBound)
            {
                report.Find("hang", $"an input ran for more than {HangBound.TotalSeconds} s", reproducer(Volatile.Read(ref current)!));
                break;
            }
        }

        report.Elapsed = Stopwatch.GetElapsedTime(started);
        return report;
    }
}
