using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace ReadHistory.TestSupport;

/// <summary>Options for a private MariaDB server.</summary>
public sealed record MariaDbServerOptions
{
    /// <summary>Load the MyRocks engine (mariadb-plugin-rocksdb).</summary>
    public bool RocksDb { get; init; } = true;

    /// <summary>Write a ROW-format binlog with GTIDs (needed by replication tests).</summary>
    public bool Binlog { get; init; } = true;

    /// <summary>Serve TLS with a freshly made CA and server certificate.</summary>
    public bool Tls { get; init; }

    /// <summary>Extra mariadbd arguments.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
}

/// <summary>
/// A MariaDB server of the test run's own: own data directory under the temp folder, a free port on
/// 127.0.0.1 and a Unix socket, started from the Debian binaries and stopped (data removed) on dispose.
/// Created users: root (password <see cref="RootPassword"/>) and <see cref="User"/> with every privilege,
/// replication included, authenticated by mysql_native_password.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    /// <summary>Password of root@127.0.0.1 / root@localhost.</summary>
    public const string RootPassword = "root-secret";

    /// <summary>The test user.</summary>
    public const string User = "rh";

    /// <summary>The test user's password.</summary>
    public const string Password = "rh-secret";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly MariaDbServerOptions _options;
    private Process? _process;

    private MariaDbServer(string directory, int port, MariaDbServerOptions options)
    {
        Directory = directory;
        Port = port;
        _options = options;
    }

    /// <summary>The server's private folder (data, socket, logs, certificates).</summary>
    public string Directory { get; }

    /// <summary>The data directory (binlog files live here as binlog.NNNNNN).</summary>
    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Unix socket path.</summary>
    public string SocketPath => Path.Combine(Directory, "mysqld.sock");

    /// <summary>The CA certificate (PEM) that signed the server certificate, when TLS is on.</summary>
    public string CaCertificatePath => Path.Combine(Directory, "ca.pem");

    /// <summary>The server's process id, for crash tests.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("the server is not running");

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a new server; throws with the server's error log if it does not come up.</summary>
    public static async Task<MariaDbServer> StartAsync(MariaDbServerOptions? options = null)
    {
        EnsureInstalled();
        var directory = Path.Combine(Path.GetTempPath(), "readhistory-tests", "mariadb-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var server = new MariaDbServer(directory, FreePort.Next(), options ?? new MariaDbServerOptions());
        try
        {
            await InstallDataDirectoryAsync(server.DataDirectory);
            if (server._options.Tls)
            {
                await server.MakeCertificatesAsync();
            }

            await server.LaunchAsync();
            await server.RootSqlAsync(
                $"ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('{RootPassword}');" +
                $"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('{RootPassword}');" +
                "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" +
                $"CREATE USER IF NOT EXISTS '{User}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{Password}');" +
                $"GRANT ALL PRIVILEGES ON *.* TO '{User}'@'%' WITH GRANT OPTION;" +
                "FLUSH PRIVILEGES;");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection string (MySqlConnector keys) for the test user over TCP.</summary>
    public string ConnectionString(string? database = null, string? extra = null) =>
        $"Server=127.0.0.1;Port={Port};User ID={User};Password={Password}" +
        (database is null ? string.Empty : $";Database={database}") +
        (_options.Tls ? string.Empty : ";SslMode=None") +
        (extra is null ? string.Empty : ";" + extra);

    /// <summary>Runs SQL as root through the mariadb command-line client (independent of our own client) and returns its tab-separated output.</summary>
    public Task<string> SqlAsync(string sql, string? database = null) =>
        ChildProcess.RunAsync("mariadb",
            ["--no-defaults", "-uroot", "-p" + RootPassword, "--socket=" + SocketPath, "--batch", "--skip-column-names", .. database is null ? Array.Empty<string>() : ["-D", database]],
            standardInput: sql, timeout: TimeSpan.FromSeconds(60));

    /// <summary>Creates a fresh database with a unique name and returns that name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..12];
        await SqlAsync($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4;");
        return name;
    }

    /// <summary>Stops the server cleanly (SIGTERM) and waits for it.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            await ChildProcess.SignalAsync(process.Id, "TERM");
            using var cts = new CancellationTokenSource(StartTimeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Kills the server with SIGKILL, as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the server again on the same port and data directory (after Stop or Kill).</summary>
    public Task RestartAsync() => LaunchAsync();

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
                // A leftover temp folder is harmless; the next run uses a new one.
            }
        }
    }

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo("/usr/sbin/mariadbd")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        string[] arguments =
        [
            "--no-defaults", "--datadir=" + DataDirectory, "--user=root",
            "--port=" + Port.ToString(CultureInfo.InvariantCulture), "--bind-address=127.0.0.1",
            "--socket=" + SocketPath, "--pid-file=" + Path.Combine(Directory, "mysqld.pid"),
            "--log-error=" + Path.Combine(Directory, "error.log"), "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M", "--max-connections=500", "--character-set-server=utf8mb4",
        ];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (_options.Binlog)
        {
            foreach (var argument in new[] { "--log-bin=" + Path.Combine(DataDirectory, "binlog"), "--binlog-format=ROW", "--server-id=1", "--binlog-checksum=CRC32" })
            {
                info.ArgumentList.Add(argument);
            }
        }

        if (_options.RocksDb)
        {
            info.ArgumentList.Add("--plugin-load-add=ha_rocksdb");
            info.ArgumentList.Add("--rocksdb-block-cache-size=32M");
        }

        if (_options.Tls)
        {
            info.ArgumentList.Add("--ssl-ca=" + CaCertificatePath);
            info.ArgumentList.Add("--ssl-cert=" + Path.Combine(Directory, "server-cert.pem"));
            info.ArgumentList.Add("--ssl-key=" + Path.Combine(Directory, "server-key.pem"));
        }

        foreach (var argument in _options.ExtraArguments)
        {
            info.ArgumentList.Add(argument);
        }

        _process?.Dispose();
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start mariadbd");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("mariadbd exited at start:\n" + ReadErrorLog());
            }

            if (await CanConnectAsync())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"mariadbd did not accept connections within {StartTimeout}:\n" + ReadErrorLog());
    }

    private async Task<bool> CanConnectAsync()
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private Task<string> RootSqlAsync(string sql) =>
        ChildProcess.RunAsync("mariadb", ["--no-defaults", "-uroot", "--socket=" + SocketPath, "--batch"], standardInput: sql);

    private async Task MakeCertificatesAsync()
    {
        string Path(string name) => System.IO.Path.Combine(Directory, name);
        await ChildProcess.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=readhistory-test-ca", "-keyout", Path("ca-key.pem"), "-out", Path("ca.pem")]);
        await ChildProcess.RunAsync("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", Path("server-key.pem"), "-out", Path("server.csr")]);
        await File.WriteAllTextAsync(Path("san.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        await ChildProcess.RunAsync("openssl", ["x509", "-req", "-in", Path("server.csr"), "-days", "2", "-CA", Path("ca.pem"), "-CAkey", Path("ca-key.pem"), "-CAcreateserial", "-extfile", Path("san.cnf"), "-out", Path("server-cert.pem")]);
    }

    // mariadb-install-db has been seen to fail once on a machine loaded with several servers starting at once;
    // a fresh data directory and a second try is the whole remedy, so try up to three times.
    private static async Task InstallDataDirectoryAsync(string dataDirectory)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ChildProcess.RunAsync("mariadb-install-db",
                [
                    "--no-defaults", "--datadir=" + dataDirectory, "--user=root",
                    "--auth-root-authentication-method=normal", "--skip-test-db",
                ], timeout: StartTimeout);
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                System.IO.Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private string ReadErrorLog()
    {
        var log = System.IO.Path.Combine(Directory, "error.log");
        return File.Exists(log) ? File.ReadAllText(log) : "(no error log)";
    }

    private static void EnsureInstalled()
    {
        if (!File.Exists("/usr/sbin/mariadbd") || !File.Exists("/usr/bin/mariadb-install-db"))
        {
            throw new InvalidOperationException(
                "MariaDB is not installed: run ./test.sh (it installs mariadb-server, mariadb-plugin-rocksdb and redis-server) or apt-get install them.");
        }
    }
}
