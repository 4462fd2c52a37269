using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using ReadHistory.Core.Routing;
using ReadHistory.MySql.Replication;
using ReadHistory.Server.Topology;
using ReadHistory.Server.Storage;
using StackExchange.Redis;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The CDC role: while it holds the Redis lease, reads the binlog as a replica from the saved checkpoint, keeps the
/// history tables' rows, groups them by (pool, slot) and appends one <see cref="ChangeBatch"/> per touched slot per
/// publish to the slot streams (one fenced script per slot, each in its slot's own Redis Cluster hash slot), then, once
/// every slot took its batch, saves the checkpoint (fenced on the lease). A leader claims every slot when it starts, so
/// a deposed one is refused by each slot its successor has claimed. At-least-once: after a crash the next leader
/// republishes from the checkpoint, which replicas absorb because setting a bit twice changes nothing. A slot that lost
/// its stream's tail (a failover to a lagging replica) or its epoch (its Redis lost its data) makes the leader start a
/// new epoch, which replicas answer by dropping their filters. Standbys poll the lease and take over within
/// <see cref="CdcOptions.LeaseTime"/>.
/// </summary>
internal sealed partial class CdcPublisher : IHostedService, IAsyncDisposable
{
    private readonly CdcOptions _options;
    private readonly DatabaseOptions _database;
    private readonly MySqlDataSource _positionSource;
    private readonly CdcTopology _topology;
    private readonly CdcRedisStore _store;
    private readonly HistoryTables _tables;
    private readonly SlotKeys[] _slots;

    // Per stream (dense index), its publish count as of this leader's last publish or claim: a slot holding fewer lost its tail.
    private readonly long[] _seqs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CdcMetrics _metrics;
    private CancellationTokenSource? _stop;
    private Task? _run;
    private MariaDbGtidPosition? _lastPublished;
    private long _epoch;

    /// <summary>Creates a publisher; nothing runs until <see cref="StartAsync"/>.</summary>
    /// <param name="options">CDC settings (ReadHistory:Cdc).</param>
    /// <param name="database">Where the history lives (connection string, prefix, D × T).</param>
    /// <param name="topology">Pools and slots to group by.</param>
    /// <param name="redis">Redis settings (only the key prefix is read; the connection is <paramref name="connection"/>).</param>
    /// <param name="connection">A Redis connection (ConnectionMultiplexer with abortConnect=false).</param>
    /// <param name="time">Clock for delays, lease timing and lag.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="metrics">Series; null = its own, in a registry nobody scrapes.</param>
    public CdcPublisher(
        CdcOptions options, DatabaseOptions database, TopologyOptions topology, RedisOptions redis,
        IConnectionMultiplexer connection, TimeProvider time, ILogger logger, CdcMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(connection);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _database = database ?? throw new ArgumentNullException(nameof(database));

        // The current GTID position query gets its own small pool, named "cdc" in MySqlConnector's pool metrics.
        _ = MySqlPoolMetrics.Shared;
        var positionSource = new MySqlDataSourceBuilder(database.ConnectionString).UseName("cdc");
        positionSource.ConnectionStringBuilder.MaximumPoolSize = 2;
        _positionSource = positionSource.Build();
        _topology = CdcTopology.From(topology);
        _store = new CdcRedisStore(connection.GetDatabase(), new CdcKeys(redis.KeyPrefix));
        _tables = new HistoryTables(new ShardNames(database.DatabasePrefix, database.Databases, database.TablesPerDatabase));
        _slots = new SlotKeys[_topology.StreamCount];
        _seqs = new long[_slots.Length];
        for (var i = 0; i < _slots.Length; i++)
        {
            var (pool, slot) = _topology.StreamAt(i);
            _slots[i] = _store.Keys.Slot(_topology.Pools[pool], slot);
        }

        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _metrics = metrics ?? new CdcMetrics();
    }

    /// <summary>Whether this publisher holds the lease now.</summary>
    public bool IsLeader => _metrics.IsLeader;

    /// <summary>The epoch being published (0 before the first lead).</summary>
    public ulong Epoch => (ulong)Interlocked.Read(ref _epoch);

    /// <summary>The source position after the last published transaction (null before the first publish).</summary>
    public string? LastPublishedPosition => Volatile.Read(ref _lastPublished)?.ToString();

    /// <summary>The instruments.</summary>
    public CdcMetrics Metrics => _metrics;

    /// <summary>Whether stopping gives the lease up at once (true) or leaves it to expire, as a crash would (tests).</summary>
    internal bool ReleaseLeaseOnStop { get; set; } = true;

    /// <summary>Starts the standby / leader loop in the background.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_run is not null)
        {
            throw new InvalidOperationException("the publisher is already started");
        }

        _stop = new CancellationTokenSource();
        _run = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops publishing (the lease is released unless <see cref="ReleaseLeaseOnStop"/> is false).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_run is null || _stop is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The loop ends by cancellation.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _run = null;
        _stop?.Dispose();
        _stop = null;
        await _positionSource.DisposeAsync().ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            string? token;
            try
            {
                token = await _store.TryAcquireLeaseAsync(_options.LeaseTime).ConfigureAwait(false);
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                Log.RedisRetry(_logger, e.Message, _options.StandbyPollInterval.TotalMilliseconds);
                token = null;
            }

            if (token is null)
            {
                if (!await DelayAsync(_options.StandbyPollInterval, stop).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            try
            {
                await LeadWhileHeldAsync(token, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                // Whatever escaped the lead (its own failures are handled inside): the publisher must stay a candidate
                // for the lease, or the streams stop for good while the process looks alive.
                Log.PublisherFailed(_logger, e);
                if (!await DelayAsync(_options.StandbyPollInterval, stop).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
    }

    // A Redis timeout is a RedisTimeoutException, which derives from TimeoutException and not from RedisException.
    private static bool IsRedisFailure(Exception e) => e is RedisException or TimeoutException;

    private async Task LeadWhileHeldAsync(string token, CancellationToken stop)
    {
        Log.BecameLeader(_logger, token);
        _metrics.SetLeader(true);
        using var lease = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var renewal = RenewWhileLeadingAsync(token, lease);
        var failed = false;
        try
        {
            await LeadAsync(token, lease.Token).ConfigureAwait(false);
        }
        catch (LeaseLostException)
        {
            Log.LeaseLost(_logger, token);
        }
        catch (OperationCanceledException) when (lease.IsCancellationRequested)
        {
            if (!stop.IsCancellationRequested)
            {
                Log.LeaseLost(_logger, token);
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            Log.PublisherFailed(_logger, e);
            failed = true;
        }
        finally
        {
            _metrics.SetLeader(false);
            await lease.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            if (ReleaseLeaseOnStop || !stop.IsCancellationRequested)
            {
                try
                {
                    await _store.ReleaseLeaseAsync(token).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
                    Log.LeaseReleased(_logger);
                }
                catch (Exception e) when (IsRedisFailure(e))
                {
                    // It expires by itself.
                }
            }
        }

        if (failed)
        {
            await DelayAsync(_options.StandbyPollInterval, stop).ConfigureAwait(false);
        }
    }

    private async Task RenewWhileLeadingAsync(string token, CancellationTokenSource lease)
    {
        var period = TimeSpan.FromTicks(Math.Min(_options.LeaseTime.Ticks / 3, _options.StandbyPollInterval.Ticks));
        var lastRenewed = _time.GetTimestamp();
        while (await DelayAsync(period, lease.Token).ConfigureAwait(false))
        {
            try
            {
                if (!await _store.RenewLeaseAsync(token, _options.LeaseTime).ConfigureAwait(false))
                {
                    await lease.CancelAsync().ConfigureAwait(false);
                    return;
                }

                lastRenewed = _time.GetTimestamp();
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                // Past the lease time another process may hold it: stop before publishing on a stale belief.
                if (_time.GetElapsedTime(lastRenewed) >= _options.LeaseTime)
                {
                    await lease.CancelAsync().ConfigureAwait(false);
                    return;
                }

                Log.RedisRetry(_logger, e.Message, period.TotalMilliseconds);
            }
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static ulong NewEpoch()
    {
        ulong epoch;
        do
        {
            epoch = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        }
        while (epoch == 0);
        return epoch;
    }

    private async Task<MariaDbGtidPosition> CurrentGtidPositionAsync(CancellationToken cancellationToken)
    {
        var connection = await _positionSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT @@gtid_binlog_pos";
                var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                var text = value as string ?? string.Empty;
                return text.Length == 0 ? MariaDbGtidPosition.Empty : MariaDbGtidPosition.Parse(text);
            }
        }
    }

    /// <summary>A slot lost its stream's tail or its epoch: the stream can no longer be proven continuous, so a new epoch starts.</summary>
    private sealed class StreamLostException : Exception
    {
        public StreamLostException()
            : base("a slot stream lost entries")
        {
        }

        public StreamLostException(string message)
            : base(message)
        {
        }

        public StreamLostException(string message, Exception innerException)
            : base(message, innerException)
        {
        }
    }

    /// <summary>The lease is no longer this process's: stop publishing at once.</summary>
    private sealed class LeaseLostException : Exception
    {
        public LeaseLostException()
            : base("the publisher lease is held by another process")
        {
        }

        public LeaseLostException(string message)
            : base(message)
        {
        }

        public LeaseLostException(string message, Exception innerException)
            : base(message, innerException)
        {
        }
    }
}
