using System.Globalization;

namespace ReadHistory.MySql.Protocol;

/// <summary>Command lifetime on a session: timeout and cancellation by KILL QUERY on a side connection.</summary>
internal sealed partial class ServerSession
{
    private CancellationTokenRegistration _cancelRegistration;
    private CancellationToken _cancelToken;
    private long _cancelTokenCommandId;

    /// <summary>The reason of the cancellation in progress for the current command, if any.</summary>
    internal CancelReason CurrentCancelReason => _cancelReason;

    /// <summary>
    /// Starts a command: network waits are bounded by <paramref name="timeoutSeconds"/> (0 = none); when it runs
    /// out, or <paramref name="cancellationToken"/> fires, the query is killed with KILL QUERY on a side connection
    /// and, if the server does not answer within a grace period, the socket is closed.
    /// </summary>
    internal void BeginCommand(int timeoutSeconds, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_cancelLock)
        {
            _commandId++;
            _commandActive = true;
            _cancelReason = CancelReason.None;
            _hardDeadline = 0;
            _commandTimeoutMilliseconds = timeoutSeconds <= 0 ? -1 : checked(timeoutSeconds * 1000);
        }

        RegisterCancellation(cancellationToken);
    }

    /// <summary>Adds (or replaces) the token that cancels the running command (e.g. the one given to ReadAsync).</summary>
    internal void RegisterCancellation(CancellationToken cancellationToken)
    {
        var commandId = _commandId;
        if (!cancellationToken.CanBeCanceled || !_commandActive || (cancellationToken == _cancelToken && commandId == _cancelTokenCommandId))
        {
            return;
        }

        _cancelRegistration.Dispose();
        _cancelToken = cancellationToken;
        _cancelTokenCommandId = commandId;
        _cancelRegistration = cancellationToken.UnsafeRegister(static (state, _) =>
        {
            var (session, id) = ((ServerSession, long))state!;
            session.Cancel(id, CancelReason.User);
        }, (this, commandId));
    }

    /// <summary>Requests cancellation of the current command (MySqlCommand.Cancel).</summary>
    internal void CancelCurrent() => Cancel(Volatile.Read(ref _commandId), CancelReason.User);

    /// <summary>
    /// Ends the command. When a KILL was sent, waits for it and runs <c>DO SLEEP(0)</c> so that a kill that
    /// arrived after the query finished cannot hit the next one.
    /// </summary>
    internal async ValueTask EndCommandAsync(IOBehavior io)
    {
        Task? killTask;
        lock (_cancelLock)
        {
            _commandActive = false;
            killTask = _killTask;
            _killTask = null;
        }

        _cancelRegistration.Dispose();
        _cancelRegistration = default;
        _cancelToken = default;
        if (killTask is not null && !_broken)
        {
            try
            {
                await killTask.ConfigureAwait(false);
                _hardDeadline = Environment.TickCount64 + KillGraceMilliseconds;
                await ExecuteSimpleAsync("DO SLEEP(0)", io).ConfigureAwait(false);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.QueryInterrupted)
            {
                // The pending kill was absorbed here, as intended.
            }
            catch (MySqlException ex)
            {
                MarkBroken("could not clear a pending KILL QUERY: " + ex.Message);
            }
        }

        lock (_cancelLock)
        {
            _cancelReason = CancelReason.None;
            _hardDeadline = 0;
        }
    }

    /// <summary>
    /// Maps a server error to the exception to throw: ERR 1317 after our own KILL becomes the timeout exception or
    /// <see cref="OperationCanceledException"/>; anything else is a <see cref="MySqlException"/> with the server's number.
    /// </summary>
    internal Exception CreateServerException(ErrorPayload error)
    {
        if (error.ErrorCode == (int)MySqlErrorCode.QueryInterrupted)
        {
            switch (_cancelReason)
            {
                case CancelReason.Timeout:
                    return new MySqlException(MySqlErrorCode.CommandTimeoutExpired, error.SqlState,
                        $"The Command Timeout expired before the operation completed ({_commandTimeoutMilliseconds / 1000} s); the query was killed.",
                        error.ToException());
                case CancelReason.User:
                    return new OperationCanceledException("The query was cancelled (KILL QUERY).", error.ToException(), _cancelToken);
            }
        }

        return error.ToException();
    }

    /// <summary>Maps an I/O failure during a command to the exception to throw (OperationCanceledException for a user cancel).</summary>
    internal Exception MapCommandException(MySqlException exception) =>
        _abortReason == AbortReason.Cancelled || (_cancelReason == CancelReason.User && exception is MySqlConnectionException)
            ? new OperationCanceledException("The query was cancelled; the server did not stop it in time, so the connection was closed.", exception, _cancelToken)
            : exception;

    private void Cancel(long commandId, CancelReason reason)
    {
        lock (_cancelLock)
        {
            if (!_commandActive || _commandId != commandId || _cancelReason != CancelReason.None || _broken)
            {
                return;
            }

            StartKillLocked(reason);
        }
    }

    private void StartKillLocked(CancelReason reason)
    {
        _cancelReason = reason;
        _hardDeadline = Environment.TickCount64 + KillGraceMilliseconds;
        var current = Volatile.Read(ref _ioDeadline);
        if (current != 0)
        {
            Interlocked.CompareExchange(ref _ioDeadline, _hardDeadline, current);
        }

        Log.KillingQuery(MySqlLogging.Logger, ConnectionId, reason.ToString());
        _killTask = Task.Run(KillQueryAsync);
    }

    private async Task KillQueryAsync()
    {
        try
        {
            var settings = Settings.Clone();
            settings.ConnectionTimeout = Math.Min(settings.ConnectionTimeout == 0 ? 5u : settings.ConnectionTimeout, 5u);
            settings.DefaultCommandTimeout = 5;
            await using var side = await ConnectAsync(settings, IOBehavior.Asynchronous, CancellationToken.None).ConfigureAwait(false);
            await side.ExecuteSimpleAsync("KILL QUERY " + ConnectionId.ToString(CultureInfo.InvariantCulture), IOBehavior.Asynchronous).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MySqlException or IOException or OperationCanceledException)
        {
            Log.KillFailed(MySqlLogging.Logger, ConnectionId, ex.Message);
            Abort(_cancelReason == CancelReason.User ? AbortReason.Cancelled : AbortReason.CommandTimeout);
        }
    }

    /// <summary>The server dropped every prepared statement of this session (reset or reconnect).</summary>
    internal void OnPreparedStatementsLost() => PreparedStatements?.Clear();

    /// <summary>The background COM_RESET_CONNECTION started when the session went back to the pool, if any.</summary>
    internal Task? PendingReset { get; set; }

    private int[] _rowStarts = [];
    private int[] _rowLengths = [];

    /// <summary>The raw and decoded column definitions of the last result set (reused when a query repeats).</summary>
    internal (byte[][] Payloads, ColumnDefinition[] Columns)? LastColumns { get; set; }

    /// <summary>Per-column offset arrays shared by the readers of this session (one reader at a time).</summary>
    internal (int[] Starts, int[] Lengths) GetRowOffsetArrays(int count)
    {
        if (_rowStarts.Length < count)
        {
            _rowStarts = new int[Math.Max(count, 16)];
            _rowLengths = new int[Math.Max(count, 16)];
        }

        return (_rowStarts, _rowLengths);
    }

    /// <summary>Server-side prepared statements of this session, by SQL text.</summary>
    internal Dictionary<string, PreparedStatement>? PreparedStatements { get; set; }
}
