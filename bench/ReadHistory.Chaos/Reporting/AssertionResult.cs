namespace ReadHistory.Chaos;

/// <summary>One assertion of the "Done when", judged on a run.</summary>
internal sealed record AssertionResult(string Name, bool Passed, string Detail);
