using System.Data;
using System.Data.Common;
using ReadHistory.MySql.Protocol;

namespace ReadHistory.MySql;

/// <summary>A transaction on a <see cref="MySqlConnection"/> (START TRANSACTION ... COMMIT/ROLLBACK); disposing it uncommitted rolls back.</summary>
public sealed class MySqlTransaction : DbTransaction
{
    private MySqlConnection? _connection;

    internal MySqlTransaction(MySqlConnection connection, IsolationLevel isolationLevel)
    {
        _connection = connection;
        IsolationLevel = isolationLevel;
    }

    /// <summary>The connection, or null once committed or rolled back.</summary>
    public new MySqlConnection? Connection => _connection;

    /// <inheritdoc />
    public override IsolationLevel IsolationLevel { get; }

    /// <inheritdoc />
    protected override DbConnection? DbConnection => _connection;

    /// <inheritdoc />
    public override void Commit() => Sync.Wait(FinishAsync("COMMIT", IOBehavior.Synchronous, default));

    /// <inheritdoc />
    public override Task CommitAsync(CancellationToken cancellationToken = default) => FinishAsync("COMMIT", IOBehavior.Asynchronous, cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Rollback() => Sync.Wait(FinishAsync("ROLLBACK", IOBehavior.Synchronous, default));

    /// <inheritdoc />
    public override Task RollbackAsync(CancellationToken cancellationToken = default) => FinishAsync("ROLLBACK", IOBehavior.Asynchronous, cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_connection is { State: ConnectionState.Open })
        {
            await FinishAsync("ROLLBACK", IOBehavior.Asynchronous, default).ConfigureAwait(false);
        }

        _connection = null;
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _connection is { State: ConnectionState.Open })
        {
            Sync.Wait(FinishAsync("ROLLBACK", IOBehavior.Synchronous, default));
        }

        _connection = null;
        base.Dispose(disposing);
    }

    internal void Detach() => _connection = null;

    private async ValueTask FinishAsync(string sql, IOBehavior io, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("The transaction has already been committed or rolled back.");
        await connection.ExecuteSimpleAsync(sql, io, cancellationToken).ConfigureAwait(false);
        connection.OnTransactionFinished(this);
        _connection = null;
    }
}
