using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ReadHistory.MySql.Protocol;

namespace ReadHistory.MySql;

/// <summary>
/// A connection to MySQL/MariaDB, taken from the pool for its connection string (unless Pooling=false) on Open and
/// returned on Close. Open is truly asynchronous in <see cref="OpenAsync(CancellationToken)"/>.
/// </summary>
public sealed class MySqlConnection : DbConnection
{
    private string _connectionString = string.Empty;
    private MySqlConnectionStringBuilder? _settings;
    private ConnectionPool? _pool;
    private ServerSession? _session;
    private ConnectionState _state = ConnectionState.Closed;
    private MySqlDataReader? _activeReader;
    private MySqlTransaction? _transaction;

    /// <summary>Creates a connection with no connection string.</summary>
    public MySqlConnection()
    {
    }

    /// <summary>Creates a connection.</summary>
    public MySqlConnection(string? connectionString)
    {
        ConnectionString = connectionString;
    }

    /// <inheritdoc />
    [AllowNull]
    public override string ConnectionString
    {
        get => _connectionString;
        set
        {
            if (_state != ConnectionState.Closed)
            {
                throw new InvalidOperationException("The connection string cannot be changed while the connection is open.");
            }

            _connectionString = value ?? string.Empty;
            _settings = null;
            _pool = null;
        }
    }

    /// <inheritdoc />
    public override string Database => _session?.Database ?? Settings.Database;

    /// <inheritdoc />
    public override string DataSource => Settings.Server;

    /// <inheritdoc />
    public override string ServerVersion => _session?.ServerVersion ?? throw new InvalidOperationException("The connection is not open.");

    /// <inheritdoc />
    public override ConnectionState State => _state;

    /// <inheritdoc />
    public override int ConnectionTimeout => (int)Settings.ConnectionTimeout;

    /// <summary>The server's connection id (as used by KILL).</summary>
    public int ServerThread => (int)(_session?.ConnectionId ?? throw new InvalidOperationException("The connection is not open."));

    /// <inheritdoc />
    protected override DbProviderFactory DbProviderFactory => MySqlProviderFactory.Instance;

    internal MySqlConnectionStringBuilder Settings => _settings ??= _pool?.Settings ?? new MySqlConnectionStringBuilder(_connectionString);

    internal ServerSession? Session => _session;

    /// <summary>Closes every idle pooled connection and makes the pools discard the ones in use when they come back.</summary>
    public static void ClearAllPools() => ConnectionPool.ClearAll();

    /// <summary>Same as <see cref="ClearAllPools"/>.</summary>
    public static Task ClearAllPoolsAsync(CancellationToken cancellationToken = default)
    {
        ConnectionPool.ClearAll();
        return Task.CompletedTask;
    }

    /// <summary>Clears the pool of one connection string.</summary>
    public static void ClearPool(MySqlConnection connection) => ConnectionPool.Find(connection.ConnectionString)?.Clear();

    /// <inheritdoc />
    public override void Open() => Sync.Wait(OpenAsync(IOBehavior.Synchronous, default));

    /// <inheritdoc />
    public override Task OpenAsync(CancellationToken cancellationToken) => OpenAsync(IOBehavior.Asynchronous, cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Close() => Sync.Wait(CloseAsync(IOBehavior.Synchronous));

    /// <inheritdoc />
    public override Task CloseAsync() => CloseAsync(IOBehavior.Asynchronous).AsTask();

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await CloseAsync(IOBehavior.Asynchronous).ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void ChangeDatabase(string databaseName) => Sync.Wait(ChangeDatabaseAsync(databaseName, IOBehavior.Synchronous, default));

    /// <inheritdoc />
    public override Task ChangeDatabaseAsync(string databaseName, CancellationToken cancellationToken = default) =>
        ChangeDatabaseAsync(databaseName, IOBehavior.Asynchronous, cancellationToken).AsTask();

    /// <summary>Creates a typed command on this connection.</summary>
    public new MySqlCommand CreateCommand() => new() { Connection = this };

    /// <summary>Begins a transaction.</summary>
    public new MySqlTransaction BeginTransaction() => Sync.Wait(BeginTransactionAsync(IsolationLevel.Unspecified, IOBehavior.Synchronous, default));

    /// <summary>Begins a transaction with an isolation level.</summary>
    public new MySqlTransaction BeginTransaction(IsolationLevel isolationLevel) => Sync.Wait(BeginTransactionAsync(isolationLevel, IOBehavior.Synchronous, default));

    /// <summary>Begins a transaction asynchronously.</summary>
    public new ValueTask<MySqlTransaction> BeginTransactionAsync(CancellationToken cancellationToken = default) =>
        BeginTransactionAsync(IsolationLevel.Unspecified, IOBehavior.Asynchronous, cancellationToken);

    /// <summary>Begins a transaction with an isolation level asynchronously.</summary>
    public new ValueTask<MySqlTransaction> BeginTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken = default) =>
        BeginTransactionAsync(isolationLevel, IOBehavior.Asynchronous, cancellationToken);

    /// <summary>COM_PING: whether the server answers.</summary>
    public bool Ping() => Sync.Wait(PingAsync(IOBehavior.Synchronous, default));

    /// <summary>COM_PING: whether the server answers.</summary>
    public Task<bool> PingAsync(CancellationToken cancellationToken = default) => PingAsync(IOBehavior.Asynchronous, cancellationToken).AsTask();

    /// <inheritdoc />
    protected override DbCommand CreateDbCommand() => CreateCommand();

    /// <inheritdoc />
    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => BeginTransaction(isolationLevel);

    /// <inheritdoc />
    protected override async ValueTask<DbTransaction> BeginDbTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken) =>
        await BeginTransactionAsync(isolationLevel, IOBehavior.Asynchronous, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }

        base.Dispose(disposing);
    }

    internal ServerSession GetSessionForCommand()
    {
        if (_state != ConnectionState.Open || _session is null)
        {
            throw new InvalidOperationException($"Connection must be Open; current state is {_state}.");
        }

        if (_activeReader is not null)
        {
            throw new InvalidOperationException("There is already an open DataReader associated with this Connection which must be closed first.");
        }

        return _session;
    }

    internal void OnReaderOpened(MySqlDataReader reader) => _activeReader = reader;

    internal void OnReaderClosed(MySqlDataReader reader)
    {
        if (ReferenceEquals(_activeReader, reader))
        {
            _activeReader = null;
        }

        if (_session is { IsBroken: true })
        {
            OnSessionFailure();
        }
    }

    /// <summary>The session failed (network, protocol or timeout): the connection is Broken and the session will be discarded on Close.</summary>
    internal void OnSessionFailure()
    {
        if (_state == ConnectionState.Open)
        {
            _state = ConnectionState.Broken;
        }
    }

    internal void OnTransactionFinished(MySqlTransaction transaction)
    {
        if (ReferenceEquals(_transaction, transaction))
        {
            _transaction = null;
        }
    }

    internal void CancelCommand(MySqlCommand command)
    {
        if (_activeReader is not null)
        {
            _session?.CancelCurrent();
        }
    }

    internal async ValueTask ExecuteSimpleAsync(string sql, IOBehavior io, CancellationToken cancellationToken)
    {
        var session = GetSessionForCommand();
        session.BeginCommand((int)Settings.DefaultCommandTimeout, cancellationToken);
        try
        {
            await session.ExecuteSimpleAsync(sql, io).ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            if (session.IsBroken)
            {
                OnSessionFailure();
            }

            throw session.MapCommandException(ex);
        }
        finally
        {
            await session.EndCommandAsync(io).ConfigureAwait(false);
        }
    }

    internal async ValueTask OpenAsync(IOBehavior io, CancellationToken cancellationToken)
    {
        if (_state != ConnectionState.Closed)
        {
            throw new InvalidOperationException($"Cannot Open when State is {_state}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        _state = ConnectionState.Connecting;
        try
        {
            // A pooled connection string is parsed once, by its pool.
            _pool ??= ConnectionPool.Find(_connectionString);
            var settings = Settings;
            if (settings.Pooling)
            {
                _pool ??= ConnectionPool.Get(_connectionString, settings);
                _settings = _pool.Settings;
                _session = await _pool.RentAsync(io, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _session = await ServerSession.ConnectAsync(settings, io, cancellationToken).ConfigureAwait(false);
            }

            _state = ConnectionState.Open;
        }
        catch
        {
            _state = ConnectionState.Closed;
            throw;
        }
    }

    internal async ValueTask CloseAsync(IOBehavior io)
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        if (_activeReader is { } reader)
        {
            if (io == IOBehavior.Synchronous)
            {
                reader.Close();
            }
            else
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }

            _activeReader = null;
        }

        var session = _session;
        _session = null;
        _state = ConnectionState.Closed;
        var transaction = _transaction;
        _transaction = null;
        transaction?.Detach();
        if (session is null)
        {
            return;
        }

        if (_pool is not null && !session.IsBroken)
        {
            if (transaction is not null && !_pool.Settings.ConnectionReset)
            {
                try
                {
                    await session.ExecuteSimpleAsync("ROLLBACK", io).ConfigureAwait(false);
                }
                catch (MySqlException)
                {
                    // The session is broken now; the pool discards it.
                }
            }

            _pool.Return(session);
        }
        else if (_pool is not null)
        {
            _pool.Return(session);
        }
        else if (io == IOBehavior.Synchronous)
        {
            session.Dispose();
        }
        else
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask ChangeDatabaseAsync(string databaseName, IOBehavior io, CancellationToken cancellationToken)
    {
        var session = GetSessionForCommand();
        session.BeginCommand((int)Settings.DefaultCommandTimeout, cancellationToken);
        try
        {
            await session.InitDatabaseAsync(databaseName, io).ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            if (session.IsBroken)
            {
                OnSessionFailure();
            }

            throw session.MapCommandException(ex);
        }
        finally
        {
            await session.EndCommandAsync(io).ConfigureAwait(false);
        }
    }

    private async ValueTask<MySqlTransaction> BeginTransactionAsync(IsolationLevel isolationLevel, IOBehavior io, CancellationToken cancellationToken)
    {
        if (_transaction is not null)
        {
            throw new InvalidOperationException("Transactions may not be nested.");
        }

        var level = isolationLevel switch
        {
            IsolationLevel.Unspecified => null,
            IsolationLevel.ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel.ReadCommitted => "READ COMMITTED",
            IsolationLevel.RepeatableRead => "REPEATABLE READ",
            IsolationLevel.Serializable or IsolationLevel.Snapshot => "SERIALIZABLE",
            _ => throw new NotSupportedException($"Isolation level {isolationLevel} is not supported."),
        };
        var sql = level is null ? "START TRANSACTION" : string.Create(CultureInfo.InvariantCulture, $"SET TRANSACTION ISOLATION LEVEL {level}; START TRANSACTION");
        await ExecuteSimpleAsync(sql, io, cancellationToken).ConfigureAwait(false);
        _transaction = new MySqlTransaction(this, isolationLevel == IsolationLevel.Unspecified ? IsolationLevel.RepeatableRead : isolationLevel);
        return _transaction;
    }

    private async ValueTask<bool> PingAsync(IOBehavior io, CancellationToken cancellationToken)
    {
        if (_state != ConnectionState.Open || _session is null || _activeReader is not null)
        {
            return false;
        }

        var session = _session;
        session.BeginCommand((int)Settings.DefaultCommandTimeout, cancellationToken);
        try
        {
            await session.PingAsync(io).ConfigureAwait(false);
            return true;
        }
        catch (MySqlException)
        {
            if (session.IsBroken)
            {
                OnSessionFailure();
            }

            return false;
        }
        finally
        {
            await session.EndCommandAsync(io).ConfigureAwait(false);
        }
    }
}
