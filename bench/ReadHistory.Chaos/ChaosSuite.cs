using System.Diagnostics;
using System.Globalization;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Chaos;

/// <summary>
/// One run: the network (when allowed), the servers and the service processes, a warm-up window, the phases in
/// order with traffic throughout, the final verification, the stop of everything it started, and the judged report.
/// Bounded by <see cref="ChaosOptions.HardCap"/>; cancelling <c>cancellationToken</c> (Ctrl-C) stops it cleanly.
/// </summary>
internal sealed partial class ChaosSuite
{
    private readonly ChaosOptions _options;
    private readonly TextWriter _log;
    private readonly ChaosReport _report;
    private ServiceCluster _cluster = null!;
    private NetworkLab? _lab;

    private ChaosSuite(ChaosOptions options, TextWriter log, string runId)
    {
        _options = options;
        _log = log;
        _report = new ChaosReport(runId, options);
    }

    /// <summary>Runs the suite; the report says what held. Throws only when cancelled from outside.</summary>
    public static async Task<ChaosReport> RunAsync(ChaosOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var suite = new ChaosSuite(options, log, Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..6]);
        await suite.RunAsync(cancellationToken);
        return suite._report;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var folder = Path.Combine(Path.GetTempPath(), "readhistory-chaos-" + _report.RunId);
        Directory.CreateDirectory(folder);
        _report.LogFolder = folder;
        using var cap = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cap.CancelAfter(_options.HardCap);
        var serverDll = _options.ServerDll ?? ServerLocator.ServerDll();
        Say(F($"chaos run {_report.RunId} ({(_options.Short ? "short" : "full")}): {serverDll}; logs in {folder}; hard cap {_options.HardCap.TotalSeconds:0} s"));

        TrafficDriver? driver = null;
        Grpc.Net.Client.GrpcChannel? channel = null;
        ServiceCluster? cluster = null;
        try
        {
            if (_options.UseNamespaces)
            {
                (_lab, var reason) = await NetworkLab.TryCreateAsync(_report.RunId);
                SkipPartitionUnless(_lab is not null, "network namespaces unavailable: " + reason);
            }
            else
            {
                SkipPartitionUnless(false, "network namespaces disabled (--no-netns)");
            }

            if (_lab is not null)
            {
                Say(F($"network: namespace {_lab.Namespace}, host {_lab.HostAddress}, isolated replica {_lab.IsolatedAddress}, Redis {_lab.RedisAddress}"));
            }

            cluster = await ServiceCluster.StartAsync(serverDll, _lab, folder, _log, _options.ReadyLimit, cap.Token);
            _cluster = cluster;
            Say(F($"cluster ready after {clock.Elapsed.TotalSeconds:0} s; traffic: {_options.WriteRate:0} MarkRead/s + {_options.CheckRate:0} Check/s through both proxies"));
            channel = ChaosClient.Create(cluster.ProxyEndpoints);
            var client = new ReadHistoryClient(channel);
            var ledger = new Ledger();
            var current = new PhaseStats("warm-up", "traffic only: users' first calls (read-through, rebuilds)", kind: null);
            _report.Phases.Add(current);
            driver = new TrafficDriver(_options, ledger, client, current);
            driver.Start();
            await SettleAsync(current, cap.Token);

            var completed = true;
            foreach (var kind in _options.Phases)
            {
                if (kind == PhaseKind.Partition && _lab is null)
                {
                    continue;
                }

                var next = new PhaseStats(PhaseNames.Name(kind), Describe(kind), kind);
                current.End();
                driver.Enter(next);
                _report.Phases.Add(next);
                current = next;
                Say(F($"[{clock.Elapsed.TotalSeconds,5:0}s] phase {next.Name}: {next.Description}"));
                if (!await RunPhaseAsync(kind, next, cap.Token))
                {
                    completed = false;
                    _report.Errors.Add(next.Name + " hung: " + string.Join("; ", next.Notes));
                    break;
                }
            }

            current.End();
            await driver.StopAsync();
            _report.ShedCalls = driver.Shed;
            if (completed)
            {
                await VerifyAsync(ledger, client, cap.Token);
            }
        }
        catch (OperationCanceledException) when (cap.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _report.Errors.Add(F($"the run passed its hard cap of {_options.HardCap.TotalSeconds:0} s (in {_report.Phases.LastOrDefault()?.Name ?? "start-up"})"));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _report.Errors.Add("cancelled (Ctrl-C / SIGTERM)");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or Grpc.Core.RpcException or MySqlConnector.MySqlException)
        {
            _report.Errors.Add(e.ToString());
        }
        finally
        {
            Say("stopping everything this run started");
            if (driver is not null)
            {
                await driver.DisposeAsync();
            }

            channel?.Dispose();
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }

            if (_lab is not null)
            {
                await _lab.DisposeAsync();
            }

            _report.TotalSeconds = clock.Elapsed.TotalSeconds;
            DoneWhen.Evaluate(_report);
            if (_report.Passed)
            {
                // Logs are kept only where something is to be read in them.
                Directory.Delete(folder, recursive: true);
                _report.LogFolder += " (removed: the run passed)";
            }
        }
    }

    // The warm-up lasts until calls have gone through without a failure for a while (a freshly started cluster, JIT
    // and first rebuilds, fails calls on a loaded 2-core machine), so the first phase's baseline is really quiet.
    private async Task SettleAsync(PhaseStats warmUp, CancellationToken cancellationToken)
    {
        var quiet = TimeSpan.FromSeconds(3);
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(3, _options.SecondsPerPhase / 4)), cancellationToken);
        while (warmUp.SecondsSinceFault(Stopwatch.GetTimestamp()) - warmUp.LastFailureSeconds < quiet.TotalSeconds || warmUp.Total().Calls == 0)
        {
            if (clock.Elapsed > _options.ReadyLimit)
            {
                warmUp.Notes.Add(F($"calls still failing after {_options.ReadyLimit.TotalSeconds:0} s of warm-up; phases start anyway"));
                return;
            }

            await Task.Delay(250, cancellationToken);
        }

        warmUp.Notes.Add(F($"settled after {clock.Elapsed.TotalSeconds:0.0} s (no failed call for {quiet.TotalSeconds:0} s)"));
    }

    private async Task VerifyAsync(Ledger ledger, ReadHistoryClient client, CancellationToken cancellationToken)
    {
        var notReady = new List<string>();
        if (!await _cluster.WaitAllReadyAsync(_options.ReadyLimit, notReady, cancellationToken))
        {
            _report.Errors.Add("before the final verification, not ready: " + string.Join(", ", notReady));
            return;
        }

        // Let the last changes reach every replica through the stream (the CDC's lag is milliseconds when healthy).
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        Say(F($"final verification of {ledger.AckedRows} acknowledged reads (proxies and database)"));
        await Verifier.VerifyAsync(ledger, client, _cluster.ConnectionString, _report.Final, cancellationToken);
    }

    private void SkipPartitionUnless(bool allowed, string reason)
    {
        if (!allowed && _options.Phases.Contains(PhaseKind.Partition))
        {
            _report.Skipped.Add((PhaseNames.Name(PhaseKind.Partition), reason));
            Say("NOTE: " + reason + " — the partition phase is SKIPPED (reported as skipped)");
        }
    }

    private void Say(string line)
    {
        lock (_log)
        {
            _log.WriteLine(line);
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
