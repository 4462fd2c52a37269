using System.Globalization;
using System.Text;

namespace ReadHistory.Benchmarks.Fuzzing;

/// <summary>What one fuzzing run did: inputs, outcomes by kind, findings with their reproducers, the slowest input and the largest allocation.</summary>
internal sealed class FuzzReport(string target, int seed, int corpusSize)
{
    private const int KeptPerKind = 5;

    /// <summary>The fuzzed target's name.</summary>
    public string Target { get; } = target;

    /// <summary>The seed of the run.</summary>
    public int Seed { get; } = seed;

    /// <summary>Seed inputs the mutations start from.</summary>
    public int CorpusSize { get; } = corpusSize;

    /// <summary>Inputs run (calls, for the gRPC fuzzer).</summary>
    public long Inputs { get; set; }

    /// <summary>How each input ended: "ok", a documented exception's name, a status code.</summary>
    public SortedDictionary<string, long> Outcomes { get; } = new(StringComparer.Ordinal);

    /// <summary>Findings by kind (an undocumented exception, a hang, an allocation over the bound, a wrong status), with their count.</summary>
    public SortedDictionary<string, long> FindingCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>The first few findings of each kind, with the input that produced them.</summary>
    public List<FuzzFinding> Findings { get; } = [];

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>The slowest single input.</summary>
    public TimeSpan SlowestInput { get; set; }

    /// <summary>The most bytes one input allocated, and that input's length.</summary>
    public (long Bytes, int InputLength) LargestAllocation { get; set; }

    /// <summary>Total findings.</summary>
    public long FindingTotal => FindingCounts.Values.Sum();

    /// <summary>Counts an outcome.</summary>
    public void Count(string outcome) => Outcomes[outcome] = Outcomes.GetValueOrDefault(outcome) + 1;

    /// <summary>Records a finding (kept with its input while fewer than a few of its kind are kept).</summary>
    public void Find(string kind, string detail, byte[] input)
    {
        lock (Findings)
        {
            FindingCounts[kind] = FindingCounts.GetValueOrDefault(kind) + 1;
            if (Findings.Count(f => f.Kind == kind) < KeptPerKind)
            {
                Findings.Add(new FuzzFinding(kind, detail, input));
            }
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.Append(invariant, $"{Target}: seed {Seed}, corpus {CorpusSize}, {Inputs:N0} inputs in {Elapsed.TotalSeconds:F1} s ({Inputs / Math.Max(Elapsed.TotalSeconds, 1e-9):N0}/s)").AppendLine();
        text.Append(invariant, $"  slowest input {SlowestInput.TotalMilliseconds:F1} ms; largest allocation {LargestAllocation.Bytes:N0} bytes (input of {LargestAllocation.InputLength:N0} bytes)").AppendLine();
        text.Append("  outcomes: ").AppendJoin(", ", Outcomes.Select(o => string.Create(invariant, $"{o.Key} {o.Value:N0}"))).AppendLine();
        text.Append(invariant, $"  findings: {FindingTotal}").AppendLine();
        foreach (var finding in Findings)
        {
            text.Append(invariant, $"  [{finding.Kind}] {finding.Detail}").AppendLine();
            text.Append("    input: ").AppendLine(Convert.ToHexString(finding.Input.AsSpan(0, Math.Min(finding.Input.Length, 4096))));
        }

        return text.ToString();
    }
}

/// <summary>One finding: its kind, what happened, and the input that makes it happen.</summary>
internal sealed record FuzzFinding(string Kind, string Detail, byte[] Input);
