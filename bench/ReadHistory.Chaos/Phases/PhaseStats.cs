using System.Diagnostics;
using Grpc.Core;

namespace ReadHistory.Chaos;

/// <summary>
/// What the traffic saw in one phase's window. A call belongs to the phase that was current when it started, and to
/// its baseline or its fault window by whether it started before the fault. Thread-safe (calls complete on pool threads).
/// </summary>
internal sealed class PhaseStats
{
    /// <summary>Age bound between "recent" and "older" false negatives (the 1 s).</summary>
    public static readonly long RecentTicks = Stopwatch.Frequency;

    private readonly Lock _lock = new();
    private readonly long _startedAt;
    private long _faultAt = long.MaxValue;

    /// <summary>A phase window starting now.</summary>
    public PhaseStats(string name, string description, PhaseKind? kind)
    {
        Name = name;
        Description = description;
        Kind = kind;
        _startedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>The phase's short name.</summary>
    public string Name { get; }

    /// <summary>What the phase does.</summary>
    public string Description { get; }

    /// <summary>The fault, or null for the warm-up window.</summary>
    public PhaseKind? Kind { get; }

    /// <summary>Calls that started before the fault.</summary>
    public WindowCounters Baseline { get; } = new();

    /// <summary>Calls that started at or after the fault.</summary>
    public WindowCounters Fault { get; } = new();

    /// <summary>Seconds from the fault to the component being ready again (null: not applicable or never).</summary>
    public double? ReadyAfterSeconds { get; set; }

    /// <summary>Seconds the window lasted.</summary>
    public double? LengthSeconds { get; private set; }

    /// <summary>Whether a wait in this phase ran past its limit (the run stopped there).</summary>
    public bool Hung { get; set; }

    /// <summary>Free-form notes (what was killed, what was skipped, what went wrong).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Seconds after the fault of the last failed call (0 = none failed).</summary>
    public double LastFailureSeconds { get; private set; }

    /// <summary>Seconds after the fault of the last check with a false negative (0 = none).</summary>
    public double LastFalseNegativeSeconds { get; private set; }

    /// <summary>The oldest acknowledged read reported unread, in seconds.</summary>
    public double MaxFalseNegativeAgeSeconds { get; private set; }

    /// <summary>Marks the fault as injected now.</summary>
    public void MarkFault() => Interlocked.Exchange(ref _faultAt, Stopwatch.GetTimestamp());

    /// <summary>Seconds since the fault (or since the window started when there is none).</summary>
    public double SecondsSinceFault(long timestamp) =>
        Stopwatch.GetElapsedTime(Volatile.Read(ref _faultAt) == long.MaxValue ? _startedAt : Volatile.Read(ref _faultAt), timestamp).TotalSeconds;

    /// <summary>Closes the window.</summary>
    public void End() => LengthSeconds = Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;

    /// <summary>Counts a finished MarkRead call that started at <paramref name="startedAt"/>.</summary>
    public void RecordWrite(long startedAt, StatusCode status, int rows)
    {
        lock (_lock)
        {
            var window = WindowOf(startedAt);
            window.Writes++;
            if (status == StatusCode.OK)
            {
                window.AckedRows += rows;
            }
            else
            {
                window.UnknownRows += rows;
                Count(window.WriteFailures, status);
                LastFailureSeconds = Math.Max(LastFailureSeconds, SecondsSinceFault(Stopwatch.GetTimestamp()));
            }
        }
    }

    /// <summary>Counts a Check that failed with <paramref name="status"/>.</summary>
    public void RecordCheckFailure(long startedAt, StatusCode status)
    {
        lock (_lock)
        {
            var window = WindowOf(startedAt);
            window.Checks++;
            Count(window.CheckFailures, status);
            LastFailureSeconds = Math.Max(LastFailureSeconds, SecondsSinceFault(Stopwatch.GetTimestamp()));
        }
    }

    /// <summary>Counts a Check that answered: its verdicts on acknowledged and never-written ids.</summary>
    public void RecordCheck(long startedAt, in CheckVerdicts verdicts)
    {
        lock (_lock)
        {
            var window = WindowOf(startedAt);
            window.Checks++;
            window.AckedChecked += verdicts.AckedChecked;
            window.NeverWrittenChecked += verdicts.NeverWrittenChecked;
            window.FalsePositives += verdicts.FalsePositives;
            window.FnRecentSame += verdicts.FnRecentSame;
            window.FnRecentOther += verdicts.FnRecentOther;
            window.FnOlderSame += verdicts.FnOlderSame;
            window.FnOlderOther += verdicts.FnOlderOther;
            if (verdicts.FalseNegatives > 0)
            {
                LastFalseNegativeSeconds = Math.Max(LastFalseNegativeSeconds, SecondsSinceFault(startedAt));
                MaxFalseNegativeAgeSeconds = Math.Max(MaxFalseNegativeAgeSeconds, verdicts.MaxFalseNegativeAgeSeconds);
            }
        }
    }

    /// <summary>Both windows added up.</summary>
    public WindowCounters Total()
    {
        lock (_lock)
        {
            return WindowCounters.Sum(Baseline, Fault);
        }
    }

    private WindowCounters WindowOf(long startedAt) => startedAt < Volatile.Read(ref _faultAt) ? Baseline : Fault;

    private static void Count(SortedDictionary<string, long> failures, StatusCode status)
    {
        var key = status.ToString();
        failures[key] = failures.GetValueOrDefault(key) + 1;
    }
}
