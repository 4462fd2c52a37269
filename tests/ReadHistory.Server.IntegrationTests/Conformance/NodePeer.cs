using System.ComponentModel;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>
/// The independent @grpc/grpc-js peer in Conformance/js: installs its packages once (npm ci, bounded), runs the client
/// script per case and starts the server script. A missing node or npm is a failure, never a skip.
/// </summary>
public static class NodePeer
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool _installed;

    /// <summary>The folder with the scripts and package.json: tests/ReadHistory.Server.IntegrationTests/Conformance/js, recorded at build time.</summary>
    public static string Folder { get; } = typeof(NodePeer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ConformanceFolder").Value!;

    /// <summary>Checks node and npm are there and installs node_modules when missing.</summary>
    public static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (_installed)
            {
                return;
            }

            var version = await RunToolAsync("node", ["--version"], TimeSpan.FromSeconds(30));
            if (!version.StartsWith('v'))
            {
                throw new InvalidOperationException($"node --version printed '{version}'");
            }

            if (!File.Exists(Path.Combine(Folder, "node_modules", "@grpc", "grpc-js", "package.json")))
            {
                await RunToolAsync("npm", ["ci", "--no-audit", "--no-fund", "--prefix", Folder], TimeSpan.FromMinutes(5));
            }

            _installed = true;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>Runs one client case against host:port and returns what it observed.</summary>
    public static async Task<JsonElement> RunClientAsync(string hostAndPort, string caseName)
    {
        var output = await RunToolAsync("node", [Path.Combine(Folder, "client.js"), hostAndPort, caseName], TimeSpan.FromSeconds(60));
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        using var document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    /// <summary>Starts the grpc-js echo server; it stops when disposed.</summary>
    public static async Task<NodeServer> StartServerAsync()
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Folder,
        };
        info.ArgumentList.Add(Path.Combine(Folder, "server.js"));
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start node server.js");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(cts.Token)
                    ?? throw new InvalidOperationException("server.js ended before printing its port: " + await process.StandardError.ReadToEndAsync(cts.Token));
                if (line.StartsWith("PORT ", StringComparison.Ordinal))
                {
                    return new NodeServer(process, int.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    private static async Task<string> RunToolAsync(string tool, string[] arguments, TimeSpan timeout)
    {
        try
        {
            return await ChildProcess.RunAsync(tool, arguments, timeout: timeout);
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"'{tool}' is needed by the grpc-js conformance tests and was not found on PATH (./test.sh installs it)", ex);
        }
    }
}

/// <summary>A running grpc-js echo server.</summary>
public sealed class NodeServer(Process process, int port) : IAsyncDisposable
{
    public int Port => port;

    public string HostAndPort => "127.0.0.1:" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public Uri Address => new("http://" + HostAndPort);

    public async ValueTask DisposeAsync()
    {
        // Closing its standard input is the script's signal to stop; kill it if it does not.
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}
