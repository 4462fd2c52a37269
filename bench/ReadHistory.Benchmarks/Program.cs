using BenchmarkDotNet.Running;

namespace ReadHistory.Benchmarks;

/// <summary>Entry point: every suite in this assembly, chosen with --filter (see bench/README.md).</summary>
internal static class Program
{
    private static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchConfig());
}
