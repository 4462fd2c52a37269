using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace ReadHistory.TestSupport;

/// <summary>
/// A Redis server of the test run's own (Debian's redis-server): own folder, free port on 127.0.0.1,
/// append-only file on so a restart keeps data unless the test wipes it; stopped and removed on dispose.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly IReadOnlyList<string> _extraArguments;
    private Process? _process;

    private RedisServer(string directory, int port, IReadOnlyList<string> extraArguments)
    {
        Directory = directory;
        Port = port;
        _extraArguments = extraArguments;
    }

    /// <summary>The server's private folder.</summary>
    public string Directory { get; }

    /// <summary>TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>"127.0.0.1:port", as StackExchange.Redis takes it.</summary>
    public string Endpoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether the server process runs (false once killed and not started again).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running server's process id (to freeze it with SIGSTOP and thaw it with SIGCONT).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("redis-server is not running");

    /// <summary>
    /// Starts a new server; <paramref name="extraArguments"/> are appended to redis-server's (a later option wins, so
    /// e.g. <c>--bind 127.0.0.1 10.0.0.3</c> adds an address the chaos suite can cut off by route).
    /// </summary>
    public static async Task<RedisServer> StartAsync(IReadOnlyList<string>? extraArguments = null)
    {
        if (!File.Exists("/usr/bin/redis-server"))
        {
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh or apt-get install redis-server.");
        }

        var directory = Path.Combine(Path.GetTempPath(), "readhistory-tests", "redis-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var server = new RedisServer(directory, FreePort.Next(), extraArguments ?? []);
        try
        {
            await server.LaunchAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a command through redis-cli and returns its output.</summary>
    public Task<string> CliAsync(params string[] command) =>
        ChildProcess.RunAsync("redis-cli", ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), .. command]);

    /// <summary>Kills the server with SIGKILL.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Kills the server, optionally wipes its data (as a lost Redis would), and starts it again on the same port.</summary>
    public async Task RestartAsync(bool wipeData)
    {
        await KillAsync();
        if (wipeData)
        {
            foreach (var entry in new DirectoryInfo(Directory).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo folder)
                {
                    folder.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }
        }

        await LaunchAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        finally
        {
            _process?.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo("/usr/bin/redis-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory,
                     "--save", string.Empty, "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no",
                     "--logfile", Path.Combine(Directory, "redis.log"),
                 })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var argument in _extraArguments)
        {
            info.ArgumentList.Add(argument);
        }

        _process?.Dispose();
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("redis-server exited at start: " + ReadLog());
            }

            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"redis-server did not accept connections within {StartTimeout}: " + ReadLog());
    }

    private string ReadLog()
    {
        var log = Path.Combine(Directory, "redis.log");
        return File.Exists(log) ? File.ReadAllText(log) : "(no log)";
    }
}
