using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Preload;
using ReadHistory.LoadGen.Running;
using ReadHistory.LoadGen.Targets;
using ReadHistory.TestSupport;

namespace ReadHistory.LoadGen.Tests;

[CollectionDefinition(MariaDbFixture.Collection)]
public sealed class MariaDbCollectionDefinition : ICollectionFixture<MariaDbFixture>;

/// <summary>
/// <c>service</c> and <c>service-direct</c> against the real server: a private MariaDB, one cache node (role cache) and
/// one proxy (role proxy, one pool of one slot pointing at the node) started as processes from the built
/// readhistory.dll, the way bench/run-e2e.sh starts them; short open-loop runs judged by the ground truth.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ServiceTargetTests(MariaDbFixture fixture) : IAsyncLifetime
{
    private static readonly WorkloadOptions Workload = new() { Users = 200, HistoryMax = 2_000, HeavyShare = 0, Sessions = 16, SessionLength = 5 };
    private readonly string _prefix = "lg" + Guid.NewGuid().ToString("N")[..8];
    private ServerProcess? _node;
    private ServerProcess? _proxy;

    public async Task InitializeAsync()
    {
        var connection = fixture.Server.ConnectionString();
        var common = new Dictionary<string, string>
        {
            ["ReadHistory__Database__ConnectionString"] = connection,
            ["ReadHistory__Database__DatabasePrefix"] = _prefix,
        };
        await ServerProcess.MigrateAsync(common);
        await new DatabasePreloader(new WorkloadModel(Workload), Targets(null), 2, 2_000, TextWriter.Null).RunAsync(truncate: true, CancellationToken.None).DefaultTimeout();
        _node = await ServerProcess.StartAsync(new Dictionary<string, string>(common) { ["ReadHistory__Roles"] = "cache", ["ReadHistory__Cache__Slot"] = "0" });
        _proxy = await ServerProcess.StartAsync(new Dictionary<string, string>(common)
        {
            ["ReadHistory__Roles"] = "proxy",
            ["ReadHistory__Topology__Pools__0__Name"] = "default",
            ["ReadHistory__Topology__Pools__0__Slots__0__Replicas__0"] = _node.Internal.ToString().TrimEnd('/'),
        });
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("feed", false, false)]
    [InlineData("feed", true, true)]
    [InlineData("push", false, true)]
    [InlineData("push", true, false)]
    public async Task Service_through_the_proxy_and_direct_to_the_node_answer_every_check_with_no_false_negative(string scenario, bool direct, bool warm)
    {
        var model = new WorkloadModel(Workload);
        await using var target = new ServiceTarget(Targets(_node!.Internal), Workload.ContentType, direct, warm ? model : null);
        var result = await RunAsync(target, scenario);

        Assert.Equal(direct ? "service-direct" : "service", result.Target);
        var checks = result.Streams[0];
        Assert.Empty(checks.Errors);
        Assert.True(checks.Completed > 0, "no check completed");
        Assert.Equal(0, result.Truth.FalseNegatives);
        Assert.Equal(0, result.Truth.FalseNegativesOtherSession);
        Assert.True(result.Truth.ReadChecked > 0 && result.Truth.UnreadChecked > 0);
        Assert.True(result.Truth.FalsePositiveRate < 0.05, $"false-positive rate {result.Truth.FalsePositiveRate}");
        if (scenario == "feed")
        {
            Assert.Empty(result.Streams[1].Errors);
            Assert.True(result.Truth.RowsAcknowledged > 0, "no write acknowledged");
        }

        // Memory comes from the node's own accounting (CacheNode.Stats), whichever path the calls took; warmed, every
        // user is cached and the figure covers every preloaded row.
        Assert.NotNull(result.Memory);
        Assert.StartsWith("CacheNode.Stats", result.Memory.Source, StringComparison.Ordinal);
        Assert.True(result.Memory.Bytes > 0 && result.Memory.Rows > 0);
        if (warm)
        {
            Assert.Contains($"all {Workload.Users} users cached", result.Memory.Source, StringComparison.Ordinal);
            Assert.Equal(model.TotalRows(), result.Memory.Rows);
        }
    }

    [Fact]
    public async Task Service_direct_calls_the_internal_api_which_a_proxy_does_not_serve()
    {
        // Aimed at the proxy, service-direct's CacheNode calls are UNIMPLEMENTED: it does not fall back to the public API.
        await using var target = new ServiceTarget(Targets(_proxy!.Grpc), Workload.ContentType, direct: true);
        var result = await RunAsync(target, "feed");

        Assert.Equal(0, result.Streams[0].Completed);
        Assert.True(result.Streams[0].Errors.TryGetValue("Unimplemented", out var failed) && failed > 0, string.Join(", ", result.Streams[0].Errors));
    }

    private static async Task<TargetResult> RunAsync(ServiceTarget target, string scenario)
    {
        var options = new RunOptions
        {
            Scenario = scenario,
            CheckRate = scenario == "push" ? 10 : 40,
            BatchUsers = 5,
            IngestRate = 100,
            IngestBatch = 10,
            MaxInFlight = 64,
            Warmup = TimeSpan.FromSeconds(0.5),
            Duration = TimeSpan.FromSeconds(2),
        };
        var runner = new LoadRunner(new WorkloadModel(Workload), options, TextWriter.Null, TimeProvider.System);
        return await runner.RunAsync(target, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
    }

    private TargetOptions Targets(Uri? node) => new()
    {
        Endpoint = _proxy?.Grpc ?? new Uri("http://127.0.0.1:1"),
        NodeEndpoint = node,
        MetricsUrl = null,
        Deadline = TimeSpan.FromSeconds(10),
        Channels = 2,
        Database = fixture.Server.ConnectionString(),
        DatabasePrefix = _prefix,
    };

    /// <summary>readhistory.dll (built through the project reference) run as a process on free loopback ports.</summary>
    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output;

        private ServerProcess(Process process, StringBuilder output, Uri grpc, Uri @internal, Uri http)
        {
            _process = process;
            _output = output;
            Grpc = grpc;
            Internal = @internal;
            Http = http;
        }

        public Uri Grpc { get; }

        /// <summary>The internal listener (CacheNode), served by a process with the cache role.</summary>
        public Uri Internal { get; }

        public Uri Http { get; }

        public static async Task MigrateAsync(IReadOnlyDictionary<string, string> environment)
        {
            var output = new StringBuilder();
            using var process = Run(environment, ["migrate"], output);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await process.WaitForExitAsync(cts.Token);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException("readhistory migrate exited with " + process.ExitCode.ToString(CultureInfo.InvariantCulture) + ":\n" + Text(output));
            }
        }

        public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
        {
            var grpcPort = FreePort.Next();
            var httpPort = FreePort.Next();
            var internalPort = FreePort.Next();
            var all = new Dictionary<string, string>(environment)
            {
                ["ReadHistory__GrpcListen"] = "127.0.0.1:" + grpcPort.ToString(CultureInfo.InvariantCulture),
                ["ReadHistory__InternalGrpcListen"] = "127.0.0.1:" + internalPort.ToString(CultureInfo.InvariantCulture),
                ["ReadHistory__HttpListen"] = "127.0.0.1:" + httpPort.ToString(CultureInfo.InvariantCulture),
            };
            var output = new StringBuilder();
            var server = new ServerProcess(Run(all, [], output), output,
                new Uri("http://127.0.0.1:" + grpcPort.ToString(CultureInfo.InvariantCulture)),
                new Uri("http://127.0.0.1:" + internalPort.ToString(CultureInfo.InvariantCulture)),
                new Uri("http://127.0.0.1:" + httpPort.ToString(CultureInfo.InvariantCulture)));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            for (var attempt = 0; attempt < 240 && !server._process.HasExited; attempt++)
            {
                try
                {
                    if ((await http.GetAsync(new Uri(server.Http, "/readyz"))).IsSuccessStatusCode)
                    {
                        return server;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    // Slow to answer on a loaded machine: ask again.
                }

                await Task.Delay(250);
            }

            await server.DisposeAsync();
            throw new InvalidOperationException("readhistory did not become ready within 60 s:\n" + Text(output));
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                await ChildProcess.SignalAsync(_process.Id, "TERM");
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await _process.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }

            _process.Dispose();
        }

        private static Process Run(IReadOnlyDictionary<string, string> environment, string[] arguments, StringBuilder output)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(ServerDll());
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet readhistory.dll");
            DataReceivedEventHandler append = (_, e) =>
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            };
            process.OutputDataReceived += append;
            process.ErrorDataReceived += append;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        private static string Text(StringBuilder output)
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        /// <summary>src/ReadHistory.Server/bin/{configuration}/{tfm}/readhistory.dll, the configuration and TFM of this test build.</summary>
        private static string ServerDll()
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var tfm = here.Name;
            var configuration = here.Parent!.Name;
            var root = here;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "ReadHistory.sln")))
            {
                root = root.Parent;
            }

            var dll = Path.Combine(root?.FullName ?? throw new InvalidOperationException("ReadHistory.sln not found above " + here.FullName),
                "src", "ReadHistory.Server", "bin", configuration, tfm, "readhistory.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("build src/ReadHistory.Server first", dll);
        }
    }
}
