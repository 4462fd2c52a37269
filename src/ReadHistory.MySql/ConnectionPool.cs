using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using ReadHistory.MySql.Protocol;

namespace ReadHistory.MySql;

/// <summary>
/// The sessions of one connection string: at most Maximum Pool Size open, an async wait with the Connection Timeout
/// for a free one, idle sessions reused last-in first-out, reset (COM_RESET_CONNECTION) in the background when
/// returned, checked on reuse (socket poll; ping after a long idle), pruned after Connection Idle Timeout, and never
/// reused once broken.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Pools live as long as the process, like MySqlConnector's.")]
internal sealed class ConnectionPool
{
    private static readonly ConcurrentDictionary<string, ConnectionPool> Pools = new(StringComparer.Ordinal);
    private static readonly TimeSpan PingAfterIdle = TimeSpan.FromSeconds(60);
    private readonly SemaphoreSlim _slots;
    private readonly Stack<ServerSession> _idle = new();
    private readonly Lock _lock = new();
    private readonly Timer _pruner;
    private readonly KeyValuePair<string, object?>[] _openTags;
    private readonly KeyValuePair<string, object?>[] _idleTags;
    private readonly KeyValuePair<string, object?>[] _poolTag;
    private int _generation;
    private int _open;
    private int _waiters;
    private int _filling;

    private ConnectionPool(MySqlConnectionStringBuilder settings)
    {
        Settings = settings;
        Name = settings.IsUnixSocket
            ? settings.Server + "/" + settings.Database
            : string.Create(CultureInfo.InvariantCulture, $"{settings.Server}:{settings.Port}/{settings.Database}");
        _slots = new SemaphoreSlim((int)Math.Max(1, settings.MaximumPoolSize));
        _openTags = [new("pool", Name), new("state", "open")];
        _idleTags = [new("pool", Name), new("state", "idle")];
        _poolTag = [new("pool", Name)];
        var period = TimeSpan.FromSeconds(Math.Clamp(settings.ConnectionIdleTimeout / 2.0, 1, 60));
        _pruner = new Timer(static state => ((ConnectionPool)state!).Prune(), this, period, period);
        if (settings.MinimumPoolSize > 0)
        {
            _ = FillToMinimumAsync();
        }
    }

    /// <summary>The settings shared by every session of the pool.</summary>
    public MySqlConnectionStringBuilder Settings { get; }

    /// <summary>server:port/database, for logs and metrics.</summary>
    public string Name { get; }

    /// <summary>Open sessions (leased, idle and being reset).</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>Idle sessions.</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>Callers waiting for a session.</summary>
    public int WaiterCount => Volatile.Read(ref _waiters);

    public static ConnectionPool Get(string connectionString, MySqlConnectionStringBuilder settings) =>
        Pools.GetOrAdd(connectionString, static (_, s) => new ConnectionPool(s.Clone()), settings);

    public static ConnectionPool? Find(string connectionString) => Pools.TryGetValue(connectionString, out var pool) ? pool : null;

    public static void ClearAll()
    {
        foreach (var pool in Pools.Values)
        {
            pool.Clear();
        }
    }

    internal static IEnumerable<ConnectionPool> All => Pools.Values;

    /// <summary>Takes a session: an idle one that passes the checks, else a new one; waits up to Connection Timeout when all are in use.</summary>
    public async ValueTask<ServerSession> RentAsync(IOBehavior io, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        if (!_slots.Wait(0))
        {
            var timeout = Settings.ConnectionTimeout == 0 ? Timeout.Infinite : (int)Math.Min(Settings.ConnectionTimeout * 1000L, int.MaxValue);
            Interlocked.Increment(ref _waiters);
            bool acquired;
            try
            {
                acquired = io == IOBehavior.Synchronous
                    ? _slots.Wait(timeout, cancellationToken)
                    : await _slots.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiters);
            }

            if (!acquired)
            {
                var waited = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                PoolMetrics.WaitSeconds.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, _poolTag);
                Log.PoolExhausted(MySqlLogging.Logger, Name, waited, Settings.MaximumPoolSize);
                throw new MySqlException(MySqlErrorCode.ConnectionPoolExhausted, null,
                    string.Create(CultureInfo.InvariantCulture, $"Connection pool exhausted: waited {waited} ms for one of {Settings.MaximumPoolSize} connections to {Name}."));
            }
        }

        PoolMetrics.WaitSeconds.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, _poolTag);
        try
        {
            while (TryPopIdle(out var session))
            {
                if (await TryReuseAsync(session, io, cancellationToken).ConfigureAwait(false))
                {
                    return session;
                }
            }

            return await CreateSessionAsync(io, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>Gives a session back: broken or outdated ones are closed; others are reset in the background and become idle.</summary>
    public void Return(ServerSession session)
    {
        if (session.IsBroken || session.PoolGeneration != Volatile.Read(ref _generation))
        {
            Discard(session);
            _slots.Release();
            return;
        }

        session.LastReturnedTicks = Environment.TickCount64;
        if (Settings.ConnectionReset)
        {
            session.PendingReset = ResetAsync(session);
        }

        lock (_lock)
        {
            _idle.Push(session);
        }

        _slots.Release();
    }

    /// <summary>Closes idle sessions now and in-use ones when they come back.</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        List<ServerSession> idle;
        lock (_lock)
        {
            idle = [.. _idle];
            _idle.Clear();
        }

        foreach (var session in idle)
        {
            Discard(session);
        }
    }

    private static async Task ResetAsync(ServerSession session)
    {
        await Task.Yield();
        await session.ResetAsync(IOBehavior.Asynchronous).ConfigureAwait(false);
    }

    private bool TryPopIdle(out ServerSession session)
    {
        lock (_lock)
        {
            return _idle.TryPop(out session!);
        }
    }

    private async ValueTask<bool> TryReuseAsync(ServerSession session, IOBehavior io, CancellationToken cancellationToken)
    {
        if (session.PendingReset is { } reset)
        {
            session.PendingReset = null;
            try
            {
                if (io == IOBehavior.Synchronous)
                {
                    reset.GetAwaiter().GetResult(); // a Task: blocking is allowed for sync Open
                }
                else
                {
                    await reset.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (MySqlException)
            {
                Discard(session);
                return false;
            }
            catch (OperationCanceledException)
            {
                // Cancelled while waiting: the reset goes on; hand the session back so nothing leaks.
                session.PendingReset = reset;
                lock (_lock)
                {
                    _idle.Push(session);
                }

                throw;
            }
        }

        if (session.IsBroken || session.PoolGeneration != Volatile.Read(ref _generation) || !session.IsSocketAlive())
        {
            Discard(session);
            return false;
        }

        if (Environment.TickCount64 - session.LastReturnedTicks > PingAfterIdle.TotalMilliseconds)
        {
            try
            {
                await session.PingAsync(io, cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlException)
            {
                Discard(session);
                return false;
            }
        }

        return true;
    }

    private async ValueTask<ServerSession> CreateSessionAsync(IOBehavior io, CancellationToken cancellationToken)
    {
        var session = await ServerSession.ConnectAsync(Settings, io, cancellationToken).ConfigureAwait(false);
        session.Pool = this;
        session.PoolGeneration = Volatile.Read(ref _generation);
        Interlocked.Increment(ref _open);
        return session;
    }

    private void Discard(ServerSession session)
    {
        if (session.Pool == this)
        {
            session.Pool = null;
            Interlocked.Decrement(ref _open);
        }

        session.Dispose();
    }

    private void Prune()
    {
        try
        {
            var idleLimit = Settings.ConnectionIdleTimeout * 1000L;
            var now = Environment.TickCount64;
            var expired = new List<ServerSession>();
            lock (_lock)
            {
                if (idleLimit > 0 && _idle.Count > 0)
                {
                    // The stack's bottom holds the longest-idle sessions; keep the newest and at least the minimum.
                    var all = _idle.ToArray(); // top first
                    var keep = new List<ServerSession>(all.Length);
                    var surplus = Math.Max(0, OpenCount - (int)Settings.MinimumPoolSize);
                    for (var i = all.Length - 1; i >= 0; i--)
                    {
                        var session = all[i];
                        if (surplus > 0 && now - session.LastReturnedTicks > idleLimit && session.PendingReset is null or { IsCompleted: true })
                        {
                            expired.Add(session);
                            surplus--;
                        }
                        else
                        {
                            keep.Add(session);
                        }
                    }

                    if (expired.Count > 0)
                    {
                        _idle.Clear();
                        foreach (var session in keep)
                        {
                            _idle.Push(session);
                        }
                    }
                }
            }

            foreach (var session in expired)
            {
                Discard(session);
            }

            if (OpenCount < Settings.MinimumPoolSize)
            {
                _ = FillToMinimumAsync();
            }
        }
        catch (Exception ex) when (ex is MySqlException or ObjectDisposedException or InvalidOperationException)
        {
            // Pruning is best effort; the next tick tries again.
        }
    }

    private async Task FillToMinimumAsync()
    {
        if (Interlocked.Exchange(ref _filling, 1) == 1)
        {
            return;
        }

        try
        {
            while (OpenCount < Settings.MinimumPoolSize && _slots.Wait(0))
            {
                try
                {
                    var session = await CreateSessionAsync(IOBehavior.Asynchronous, CancellationToken.None).ConfigureAwait(false);
                    session.LastReturnedTicks = Environment.TickCount64;
                    lock (_lock)
                    {
                        _idle.Push(session);
                    }
                }
                finally
                {
                    _slots.Release();
                }
            }
        }
        catch (MySqlException)
        {
            // The server is not reachable now; the pruner tries again.
        }
        finally
        {
            Volatile.Write(ref _filling, 0);
        }
    }

    internal void Observe(List<Measurement<long>> connections)
    {
        connections.Add(new Measurement<long>(OpenCount, _openTags));
        connections.Add(new Measurement<long>(IdleCount, _idleTags));
    }

    internal Measurement<long> ObserveWaiters() => new(WaiterCount, _poolTag);
}

/// <summary>Pool metrics (Meter "ReadHistory.MySql").</summary>
internal static class PoolMetrics
{
    public const string MeterName = "ReadHistory.MySql";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Histogram<double> WaitSeconds = Meter.CreateHistogram<double>(
        "readhistory_mysql_pool_wait_seconds", unit: "s", description: "Time spent waiting for a pooled connection.");

    private static readonly ObservableUpDownCounter<long> Connections = Meter.CreateObservableUpDownCounter(
        "readhistory_mysql_pool_connections",
        static () =>
        {
            var measurements = new List<Measurement<long>>();
            foreach (var pool in ConnectionPool.All)
            {
                pool.Observe(measurements);
            }

            return measurements;
        },
        unit: "{connection}", description: "Pooled connections by state: open (all) and idle.");

    private static readonly ObservableUpDownCounter<long> Waiters = Meter.CreateObservableUpDownCounter(
        "readhistory_mysql_pool_waiters",
        static () => ConnectionPool.All.Select(static pool => pool.ObserveWaiters()).ToList(),
        unit: "{waiter}", description: "Callers waiting for a pooled connection.");

    /// <summary>Touches the instruments so they exist from the first pool on.</summary>
    public static bool Initialized => Connections.Enabled || Waiters.Enabled || true;
}
