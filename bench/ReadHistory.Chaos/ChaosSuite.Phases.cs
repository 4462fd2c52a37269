using System.Diagnostics;
using System.Globalization;

namespace ReadHistory.Chaos;

internal sealed partial class ChaosSuite
{
    // A window goes on at least this long after its component is ready again, so the recovery is measured under traffic.
    private static readonly TimeSpan RecoveryTail = TimeSpan.FromSeconds(3);

    private string Describe(PhaseKind kind) => kind switch
    {
        PhaseKind.ReplicaKill => F($"SIGKILL cache-s1-r1, restart after {_options.Outage.TotalSeconds:0} s"),
        PhaseKind.ReplicaFreeze => F($"SIGSTOP cache-s1-r0 for {_options.Freeze.TotalSeconds:0} s, then SIGCONT"),
        PhaseKind.CdcKill => F($"SIGKILL the CDC, restart after {_options.Outage.TotalSeconds:0} s (ready = leading again)"),
        PhaseKind.ProxyKill => F($"SIGKILL proxy-0 (the client has both), restart after {_options.Outage.TotalSeconds:0} s"),
        PhaseKind.RedisKill => F($"SIGKILL Redis, restart after {_options.Outage.TotalSeconds:0} s"),
        PhaseKind.MariaDbKill => F($"SIGKILL MariaDB, restart after {_options.Outage.TotalSeconds:0} s"),
        PhaseKind.Partition => F($"cut cache-s0-r1 (own namespace) off from Redis for {_options.Partition.TotalSeconds:0} s, proxies still reach it"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Quiet baseline, the fault, recovery; false when a wait ran past <see cref="ChaosOptions.ReadyLimit"/>.</summary>
    private async Task<bool> RunPhaseAsync(PhaseKind kind, PhaseStats stats, CancellationToken cancellationToken)
    {
        var window = Stopwatch.StartNew();
        var baseline = TimeSpan.FromSeconds(Math.Max(3, _options.SecondsPerPhase / 5.0));
        await Task.Delay(baseline, cancellationToken);

        var fault = Stopwatch.StartNew();
        stats.MarkFault();
        Func<CancellationToken, Task<bool>> ready = AllReadyAsync;
        switch (kind)
        {
            case PhaseKind.ReplicaKill:
                await KillAndRestartAsync(_cluster.Replicas[1, 1], stats, cancellationToken);
                ready = _cluster.Replicas[1, 1].IsReadyAsync;
                break;
            case PhaseKind.ReplicaFreeze:
                var frozen = _cluster.Replicas[1, 0];
                await frozen.FreezeAsync();
                stats.Notes.Add(F($"SIGSTOP pid {frozen.ProcessId}"));
                await Task.Delay(_options.Freeze, cancellationToken);
                await frozen.ResumeAsync();
                ready = frozen.IsReadyAsync;
                break;
            case PhaseKind.CdcKill:
                await KillAndRestartAsync(_cluster.Cdc, stats, cancellationToken);
                ready = _cluster.CdcLeadsAsync;
                break;
            case PhaseKind.ProxyKill:
                await KillAndRestartAsync(_cluster.Proxies[0], stats, cancellationToken);
                ready = _cluster.Proxies[0].IsReadyAsync;
                break;
            case PhaseKind.RedisKill:
                await _cluster.Redis.KillAsync();
                stats.Notes.Add("SIGKILL redis-server");
                await Task.Delay(_options.Outage, cancellationToken);
                await _cluster.Redis.RestartAsync(wipeData: false);
                break;
            case PhaseKind.MariaDbKill:
                stats.Notes.Add(F($"SIGKILL mariadbd pid {_cluster.Database.ProcessId}"));
                await _cluster.Database.KillAsync();
                await Task.Delay(_options.Outage, cancellationToken);
                await _cluster.Database.RestartAsync();
                break;
            case PhaseKind.Partition:
                await _lab!.CutAsync(_lab.RedisAddress);
                stats.Notes.Add("blackhole route to " + _lab.RedisAddress + " in " + _lab.Namespace);
                try
                {
                    await Task.Delay(_options.Partition, cancellationToken);
                }
                finally
                {
                    await _lab.HealAsync(_lab.RedisAddress);
                }

                break;
        }

        if (!await WaitAsync(ready, stats, "the faulty component to be ready", cancellationToken))
        {
            return false;
        }

        stats.ReadyAfterSeconds = fault.Elapsed.TotalSeconds;
        var rest = TimeSpan.FromSeconds(_options.SecondsPerPhase) - window.Elapsed;
        await Task.Delay(rest > RecoveryTail ? rest : RecoveryTail, cancellationToken);

        // The next phase starts from a whole cluster, its quiet baseline really quiet.
        return await WaitAsync(AllReadyAsync, stats, "every process to be ready (and the CDC leading) before the next phase", cancellationToken);
    }

    private async Task KillAndRestartAsync(ServiceProcess process, PhaseStats stats, CancellationToken cancellationToken)
    {
        stats.Notes.Add(F($"SIGKILL {process.Name} pid {process.ProcessId}"));
        await process.KillAsync();
        await Task.Delay(_options.Outage, cancellationToken);
        process.Start();
    }

    private async Task<bool> AllReadyAsync(CancellationToken cancellationToken)
    {
        foreach (var process in _cluster.Processes)
        {
            if (!await process.IsReadyAsync(cancellationToken))
            {
                return false;
            }
        }

        return await _cluster.CdcLeadsAsync(cancellationToken);
    }

    private async Task<bool> WaitAsync(Func<CancellationToken, Task<bool>> condition, PhaseStats stats, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition(cancellationToken))
        {
            if (clock.Elapsed > _options.ReadyLimit)
            {
                stats.Hung = true;
                var states = new List<string>();
                foreach (var process in _cluster.Processes)
                {
                    states.Add(process.Name + (await process.IsReadyAsync(cancellationToken) ? " ready" : process.HasExited ? " exited" : " not ready"));
                }

                stats.Notes.Add(F($"waited {_options.ReadyLimit.TotalSeconds:0} s for {what}: ") + string.Join(", ", states));
                return false;
            }

            await Task.Delay(100, cancellationToken);
        }

        return true;
    }
}
