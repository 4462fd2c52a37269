using System.Globalization;
using ReadHistory.LoadGen.Model;
using StackExchange.Redis;

namespace ReadHistory.LoadGen.Targets;

/// <summary>What the Redis peers share: a connection, a database of their own (flushed before and after), used_memory.</summary>
internal abstract class RedisPeer : ILoadTarget
{
    private readonly ConnectionMultiplexer _connection;
    private long _baselineMemory;
    private long _loadedMemory;

    /// <summary>A peer on database <paramref name="database"/> of the Redis in <paramref name="options"/>.</summary>
    protected RedisPeer(TargetOptions options, WorkloadModel model, int database)
    {
        Model = model;
        Options = options;
        _connection = ConnectionMultiplexer.Connect(Configure(options.Redis));
        Database = _connection.GetDatabase(database);
        DatabaseIndex = database;
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <summary>The model whose history the peer holds.</summary>
    protected WorkloadModel Model { get; }

    /// <summary>Where it lives.</summary>
    protected TargetOptions Options { get; }

    /// <summary>The Redis database.</summary>
    protected IDatabase Database { get; }

    private int DatabaseIndex { get; }

    /// <summary>Rows loaded by <see cref="PrepareAsync"/>.</summary>
    protected long RowsLoaded { get; set; }

    /// <inheritdoc />
    public async Task PrepareAsync(TextWriter log, CancellationToken cancellationToken)
    {
        var server = Server();
        await server.FlushDatabaseAsync(DatabaseIndex).ConfigureAwait(false);
        _baselineMemory = await UsedMemoryAsync().ConfigureAwait(false);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await LoadAsync(cancellationToken).ConfigureAwait(false);
        _loadedMemory = await UsedMemoryAsync().ConfigureAwait(false);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Name}: loaded {RowsLoaded:N0} rows of {Model.Options.Users:N0} users in {started.Elapsed.TotalSeconds:F1} s"));
    }

    /// <inheritdoc />
    public abstract Task CheckAsync(CheckCall call, CancellationToken cancellationToken);

    /// <inheritdoc />
    public Task BatchCheckAsync(IReadOnlyList<CheckCall> calls, CancellationToken cancellationToken) =>
        Task.WhenAll(calls.Select(c => CheckAsync(c, cancellationToken)));

    /// <inheritdoc />
    public abstract Task MarkReadAsync(ulong userId, string sessionId, ulong[] ids, CancellationToken cancellationToken);

    /// <inheritdoc />
    public Task<MemoryFigure?> MeasureMemoryAsync(long rowsTouched, CancellationToken cancellationToken) =>
        Task.FromResult<MemoryFigure?>(new MemoryFigure(_loadedMemory - _baselineMemory, RowsLoaded, "INFO used_memory after the load, before the run − before the load / rows loaded"));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server().FlushDatabaseAsync(DatabaseIndex).ConfigureAwait(false);
        }
        finally
        {
            _connection.Dispose();
        }
    }

    /// <summary>Loads the preloaded history of every user.</summary>
    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    /// <summary>Key of <paramref name="userId"/>.</summary>
    protected static RedisKey KeyOf(string prefix, ulong userId) => prefix + userId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The peers' connection: FLUSHDB and INFO need admin commands; the bulk load queues thousands of commands at once,
    /// so a command may wait 30 s before it times out; RESP2 as the service pins it (the scripts' replies are arrays).
    /// </summary>
    private static ConfigurationOptions Configure(string redis)
    {
        var configuration = ConfigurationOptions.Parse(redis);
        configuration.AllowAdmin = true;
        configuration.SyncTimeout = 30_000;
        configuration.AsyncTimeout = 30_000;
        configuration.AbortOnConnectFail = false;
        configuration.ClientName ??= "readhistory-loadgen";
        configuration.Protocol = RedisProtocol.Resp2;
        return configuration;
    }

    private IServer Server() => _connection.GetServer(_connection.GetEndPoints()[0]);

    private async Task<long> UsedMemoryAsync()
    {
        var info = await Server().InfoAsync("memory").ConfigureAwait(false);
        foreach (var group in info)
        {
            foreach (var pair in group)
            {
                if (pair.Key == "used_memory")
                {
                    return long.Parse(pair.Value, CultureInfo.InvariantCulture);
                }
            }
        }

        return 0;
    }
}
