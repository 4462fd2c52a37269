using System.Globalization;

namespace ReadHistory.Chaos;

/// <summary>
/// Issue 17's "Done when", as far as the chaos suite measures it: no acknowledged row missing from the database; no
/// false negative in the final verification; in every phase (the warm-up included) no false negative for a read
/// acknowledged more than 1 s before the check and none in the write's own session; at most 0.1 % failed calls
/// between the fault and the end of the window when a proxy or a cache replica is killed or frozen; no phase hung.
/// </summary>
internal static class DoneWhen
{
    /// <summary>The bound on failed calls in the proxy and replica phases.</summary>
    public const double MaxFailureRatio = 0.001;

    /// <summary>Judges <paramref name="report"/> and fills its assertions.</summary>
    public static void Evaluate(ChaosReport report)
    {
        var list = report.Assertions;
        list.Clear();
        var final = report.Final;
        list.Add(new AssertionResult("final verification ran", final.Ran, final.Ran ? "ran" : "did not run (the run stopped before it)"));
        list.Add(new AssertionResult("0 acknowledged rows missing from the database", final.Ran && final.MissingRows == 0,
            F($"{final.MissingRows} of {final.AckedReads} missing")));
        list.Add(new AssertionResult("0 false negatives in the final verification", final.Ran && final.FalseNegatives == 0 && final.Unverified == 0,
            F($"{final.FalseNegatives} false negatives, {final.Unverified} not verified (calls failed), of {final.AckedReads}")));
        foreach (var phase in report.Phases)
        {
            var total = phase.Total();
            list.Add(new AssertionResult(phase.Name + ": 0 false negatives older than 1 s", total.FnOlderSame + total.FnOlderOther == 0,
                F($"{total.FnOlderSame} same-session + {total.FnOlderOther} other-session (oldest {phase.MaxFalseNegativeAgeSeconds:0.0} s)")));
            list.Add(new AssertionResult(phase.Name + ": 0 same-session false negatives", total.FnRecentSame + total.FnOlderSame == 0,
                F($"{total.FnRecentSame} within 1 s + {total.FnOlderSame} older")));
            list.Add(new AssertionResult(phase.Name + ": did not hang", !phase.Hung, phase.Hung ? string.Join("; ", phase.Notes) : "completed"));
            if (phase.Kind is { } kind && PhaseNames.BoundsFailures(kind))
            {
                var fault = phase.Fault;
                var ratio = fault.Calls == 0 ? 0 : (double)fault.Failures / fault.Calls;
                list.Add(new AssertionResult(phase.Name + ": failed calls ≤ 0.1 % after the fault", fault.Calls > 0 && ratio <= MaxFailureRatio,
                    F($"{fault.Failures} of {fault.Calls} ({ratio:P3})")));
            }
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
