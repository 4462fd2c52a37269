using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;

namespace ReadHistory.Benchmarks;

/// <summary>The one BenchmarkDotNet configuration: memory diagnoser on, short but repeated runs (the machine is shared; read medians).</summary>
internal sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithLaunchCount(1));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddExporter(MarkdownExporter.GitHub);
        AddColumnProvider(DefaultConfig.Instance.GetColumnProviders().ToArray());
        AddLogger(DefaultConfig.Instance.GetLoggers().ToArray());
        WithOptions(ConfigOptions.JoinSummary);
    }
}
