using System.Diagnostics;
using System.Globalization;
using ReadHistory.TestSupport;

namespace ReadHistory.Chaos;

/// <summary>
/// One readhistory process (dotnet readhistory.dll) with its environment, optionally inside a network namespace
/// (`ip netns exec` execs the program, so the process id is the server's own and signals reach it). Output goes to a
/// log file of its own. Killed, frozen, resumed and stopped by its process id only.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly string _serverDll;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string? _namespace;
    private readonly string _logPath;
    private Process? _process;
    private StreamWriter? _log;
    private bool _frozen;
    private bool _closed;

    /// <summary>A process named <paramref name="name"/>, not yet started.</summary>
    public ServiceProcess(string name, string serverDll, IReadOnlyDictionary<string, string> environment, string? networkNamespace, string httpAddress, string logFolder)
    {
        Name = name;
        _serverDll = serverDll;
        _environment = environment;
        _namespace = networkNamespace;
        HttpBase = new Uri("http://" + httpAddress);
        _logPath = Path.Combine(logFolder, name + ".log");
    }

    /// <summary>The process's name in the report and logs (cdc, cache-s0-r1, proxy-0).</summary>
    public string Name { get; }

    /// <summary>The HTTP listener (/readyz, /metrics).</summary>
    public Uri HttpBase { get; }

    /// <summary>The process id while it runs.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Starts the process (no wait).</summary>
    public void Start(params string[] arguments)
    {
        var info = new ProcessStartInfo(_namespace is null ? "dotnet" : "ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (_namespace is not null)
        {
            foreach (var argument in new[] { "netns", "exec", _namespace, "dotnet" })
            {
                info.ArgumentList.Add(argument);
            }
        }

        info.ArgumentList.Add(_serverDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in _environment)
        {
            info.Environment[key] = value;
        }

        _log ??= new StreamWriter(_logPath, append: true) { AutoFlush = true };
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"==== chaos: starting {Name} at {DateTime.UtcNow:HH:mm:ss.fff}"));
        _process?.Dispose();
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + Name);
        _frozen = false;
        var log = _log;
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    if (!_closed)
                    {
                        log.WriteLine(e.Data);
                    }
                }
            }
        };
        _process.OutputDataReceived += append;
        _process.ErrorDataReceived += append;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Runs the process to completion (e.g. `migrate`); throws with the tail of its log when it fails.</summary>
    public async Task RunToCompletionAsync(TimeSpan limit, CancellationToken cancellationToken, params string[] arguments)
    {
        Start(arguments);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(limit);
        try
        {
            await _process!.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException(Name + " " + string.Join(' ', arguments) + " did not finish within " + limit);
        }

        if (_process.ExitCode != 0)
        {
            throw new InvalidOperationException(Name + " " + string.Join(' ', arguments) + " exited with " + _process.ExitCode.ToString(CultureInfo.InvariantCulture) + ":\n" + Tail());
        }
    }

    /// <summary>Whether /readyz answers 200 now.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (_process is not { HasExited: false } || _frozen)
        {
            return false;
        }

        try
        {
            using var response = await Http.GetAsync(new Uri(HttpBase, "/readyz"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The value of an unlabelled gauge on /metrics, or null.</summary>
    public async Task<double?> GaugeAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var text = await Http.GetStringAsync(new Uri(HttpBase, "/metrics"), cancellationToken);
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith(name + " ", StringComparison.Ordinal)
                    && double.TryParse(line.AsSpan(name.Length + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Not answering: no value.
        }

        return null;
    }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>SIGKILL, as a crash; waits for the exit.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
        }

        _frozen = false;
    }

    /// <summary>SIGSTOP.</summary>
    public async Task FreezeAsync()
    {
        if (ProcessId is { } pid)
        {
            await ChildProcess.SignalAsync(pid, "STOP");
            _frozen = true;
        }
    }

    /// <summary>SIGCONT.</summary>
    public async Task ResumeAsync()
    {
        if (ProcessId is { } pid)
        {
            await ChildProcess.SignalAsync(pid, "CONT");
        }

        _frozen = false;
    }

    /// <summary>SIGTERM (after SIGCONT if frozen), then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        try
        {
            if (_frozen)
            {
                await ResumeAsync();
            }

            await ChildProcess.SignalAsync(process.Id, "TERM");
            using var bound = new CancellationTokenSource(grace);
            await process.WaitForExitAsync(bound.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or TimeoutException)
        {
            await KillAsync();
        }
    }

    /// <summary>The last lines of the log.</summary>
    public string Tail(int lines = 30)
    {
        try
        {
            using var stream = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process?.Dispose();
        if (_log is not null)
        {
            lock (_log)
            {
                _closed = true;
                _log.Dispose();
            }
        }
    }
}
