using System.Diagnostics;

namespace ReadHistory.Benchmarks.Cdc;

/// <summary>
/// A cache node of coherence-lag in a child process of this program (<c>coherence-lag --serve-node key=value…</c>), so
/// that its CPU time is its own; it stops when its standard input closes.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private readonly Process _process;

    private NodeProcess(Process process, Uri grpc)
    {
        _process = process;
        Grpc = grpc;
    }

    /// <summary>The node's internal gRPC address (CacheNode).</summary>
    public Uri Grpc { get; }

    /// <summary>The child's CPU time so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts the child with <paramref name="settings"/> and waits until it listens (it reports ready first).</summary>
    public static async Task<NodeProcess> StartAsync(Dictionary<string, string?> settings)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            info.ArgumentList.Add(typeof(NodeProcess).Assembly.Location);
        }

        info.ArgumentList.Add("coherence-lag");
        info.ArgumentList.Add(CoherenceLagBench.ServeNode);
        foreach (var (key, value) in settings)
        {
            info.ArgumentList.Add(key + "=" + value);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the node process");
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                // Its log lines keep coming: pass them on, or a full pipe would stall the node.
                _ = EchoAsync(process.StandardOutput);
                return new NodeProcess(process, new Uri(line["listening ".Length..]));
            }

            Console.WriteLine("  node A: " + line);
        }

        process.Dispose();
        throw new InvalidOperationException("the node process ended without listening");
    }

    private static async Task EchoAsync(StreamReader output)
    {
        while (await output.ReadLineAsync() is { } line)
        {
            Console.WriteLine("  node A: " + line);
        }
    }

    /// <summary>Closes the child's standard input and waits for it to stop (killing it past 30 s).</summary>
    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(30_000))
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
