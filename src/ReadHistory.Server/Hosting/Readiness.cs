using System.Collections.Concurrent;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// What /readyz reports: ready only while every registered component says so and the process is not draining.
/// Components (database reachability, warm start, ...) register a check; the answer lists the ones not ready.
/// </summary>
internal sealed class Readiness
{
    private readonly ConcurrentDictionary<string, Func<CancellationToken, ValueTask<bool>>> _checks = new(StringComparer.Ordinal);
    private volatile bool _draining;

    /// <summary>Starts with the checks the roles registered in the container.</summary>
    public Readiness(IEnumerable<ReadinessCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        foreach (var check in checks)
        {
            _checks[check.Name] = check.IsReady;
        }
    }

    /// <summary>Whether SIGTERM has started the drain.</summary>
    public bool IsDraining => _draining;

    /// <summary>Adds or replaces a named check.</summary>
    public void Register(string name, Func<CancellationToken, ValueTask<bool>> check) => _checks[name] = check;

    /// <summary>Marks the process as draining: it stays alive but takes no new traffic.</summary>
    public void StartDraining() => _draining = true;

    /// <summary>Runs every check; returns the names of those not ready (empty = ready).</summary>
    public async Task<IReadOnlyList<string>> NotReadyAsync(CancellationToken cancellationToken)
    {
        var notReady = new List<string>();
        if (_draining)
        {
            notReady.Add("draining");
        }

        foreach (var (name, check) in _checks)
        {
            bool ready;
            try
            {
                ready = await check(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                ready = false;
            }

            if (!ready)
            {
                notReady.Add(name);
            }
        }

        notReady.Sort(StringComparer.Ordinal);
        return notReady;
    }
}
