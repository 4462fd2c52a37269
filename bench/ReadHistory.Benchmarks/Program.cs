using BenchmarkDotNet.Running;

namespace ReadHistory.Benchmarks;

/// <summary>Entry point: every suite in this assembly, chosen with --filter (see bench/README.md); a few console modes by first argument.</summary>
internal static class Program
{
    private static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "filter-fpr")
        {
            Filters.FilterFprReport.Run();
            return;
        }

        if (args.Length > 0 && args[0].StartsWith("storage-", StringComparison.Ordinal))
        {
            Environment.ExitCode = Storage.StorageBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "mysql-pointquery")
        {
            Environment.ExitCode = MySql.PointQueryBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "rpc-loopback")
        {
            Environment.ExitCode = Rpc.RpcLoopbackBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "cdc-throughput")
        {
            Environment.ExitCode = Cdc.CdcThroughputBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "coherence-lag")
        {
            Environment.ExitCode = Cdc.CoherenceLagBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "proxy-hop")
        {
            Environment.ExitCode = Proxy.ProxyHopBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "ingest-stream")
        {
            Environment.ExitCode = Proxy.IngestStreamBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "warm-start")
        {
            Environment.ExitCode = Cache.WarmStartBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "cache-node")
        {
            Environment.ExitCode = Cache.CacheNodeBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0] == "memory-per-read")
        {
            Environment.ExitCode = Cache.MemoryPerReadBench.Run(args);
            return;
        }

        if (args.Length > 0 && args[0] == "t2")
        {
            Environment.ExitCode = Cache.SnapshotTierBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        if (args.Length > 0 && args[0].StartsWith("fuzz-", StringComparison.Ordinal))
        {
            Environment.ExitCode = Fuzzing.FuzzBench.RunAsync(args).GetAwaiter().GetResult();
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchConfig());
    }
}
