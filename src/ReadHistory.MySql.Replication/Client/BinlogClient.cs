using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.MySql.Replication.Events;

namespace ReadHistory.MySql.Replication.Client;

/// <summary>
/// Reads a MySQL/MariaDB binlog as a replica does (COM_BINLOG_DUMP) and hands out committed transactions with
/// their row changes. A lost connection — server restart, network failure, no event nor heartbeat for
/// <see cref="BinlogClientOptions.HeartbeatTimeoutFactor"/> heartbeat periods — is survived by reconnecting with
/// backoff from the last transaction handed out (GTID or file/position), so nothing committed is lost and no
/// partial transaction is ever handed out. Not thread-safe: one reader at a time.
/// </summary>
public sealed partial class BinlogClient
{
    private readonly BinlogClientOptions _options;
    private readonly ILogger _logger;
    private BinlogStart _resume;

    /// <summary>Creates a client; nothing connects until a read starts.</summary>
    public BinlogClient(BinlogClientOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.HeartbeatInterval > TimeSpan.Zero && options.HeartbeatTimeoutFactor < 1)
        {
            throw new ArgumentException("HeartbeatTimeoutFactor must be at least 1.", nameof(options));
        }

        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _resume = options.Start;
        GtidPosition = options.Start.GtidPosition ?? MariaDbGtidPosition.Empty;
    }

    /// <summary>The GTID position after the last transaction handed out (MariaDB).</summary>
    public MariaDbGtidPosition GtidPosition { get; private set; }

    /// <summary>The binlog file and position after the last transaction handed out, once one was.</summary>
    public BinlogPosition? Position { get; private set; }

    /// <summary>Where the next connection would start.</summary>
    public BinlogStart ResumePoint => _resume;

    /// <summary>How many times the client reconnected after a lost connection.</summary>
    public int ReconnectCount { get; private set; }

    /// <summary>The server's version, once connected.</summary>
    public string? ServerVersion { get; private set; }

    /// <summary>
    /// The committed transactions from the start position on, reconnecting after lost connections. Ends only when
    /// <see cref="BinlogClientOptions.StopAtEnd"/> is set and the end of the binlog is reached, on cancellation, or
    /// with <see cref="BinlogConnectionLostException"/> when reconnecting failed for too long.
    /// </summary>
    public async IAsyncEnumerable<BinlogTransaction> ReadTransactionsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ReplicationStream? stream = null;
        var attempts = 0;
        Stopwatch? lostFor = null;
        try
        {
            while (true)
            {
                BinlogTransaction? transaction;
                try
                {
                    if (stream is null)
                    {
                        stream = await ReplicationStream.OpenAsync(_options, _resume, cancellationToken).ConfigureAwait(false);
                        ServerVersion = stream.ServerVersion;
                        if (_resume.Kind is BinlogStartKind.Current or BinlogStartKind.Earliest)
                        {
                            _resume = stream.Start; // resolved to a file position: a reconnect must not jump ahead
                        }

                        if (attempts > 0)
                        {
                            ReconnectCount++;
                            LogReconnected(_logger, _resume.ToString(), attempts);
                        }
                    }

                    transaction = await stream.NextTransactionAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsConnectionLoss(ex))
                {
                    if (stream is not null)
                    {
                        if (stream.EventCount > 0)
                        {
                            // The connection worked for a while: a new loss, a new budget.
                            attempts = 0;
                            lostFor = null;
                        }

                        await stream.DisposeAsync().ConfigureAwait(false);
                        stream = null;
                    }

                    lostFor ??= Stopwatch.StartNew();
                    attempts++;
                    if (attempts > _options.MaxReconnectAttempts || lostFor.Elapsed > _options.ReconnectTimeout)
                    {
                        throw new BinlogConnectionLostException(
                            $"The binlog connection was lost and {attempts - 1} reconnect attempt(s) over {lostFor.Elapsed.TotalSeconds:0.#} s failed; last error: {ex.Message}", ex);
                    }

                    var delay = Backoff(attempts);
                    LogConnectionLost(_logger, ex.Message, _resume.ToString(), delay.TotalMilliseconds, attempts);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (transaction is null)
                {
                    yield break;
                }

                Commit(transaction);
                if (_options.IncludeEmptyTransactions || !transaction.IsEmpty)
                {
                    yield return transaction;
                }
            }
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

        }
    }

    /// <summary>
    /// The raw decoded events of one connection from the start position (for tooling): no reconnect, no grouping.
    /// Rows events own their bytes; everything else is decoded as it arrives.
    /// </summary>
    public async IAsyncEnumerable<BinlogEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = await ReplicationStream.OpenAsync(_options, _resume, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            ServerVersion = stream.ServerVersion;
            while (await stream.NextEventAsync(cancellationToken).ConfigureAwait(false) is { } binlogEvent)
            {
                yield return binlogEvent;
            }
        }
    }

    private void Commit(BinlogTransaction transaction)
    {
        GtidPosition = transaction.GtidPosition;
        Position = transaction.Position;
        _resume = _resume.Kind == BinlogStartKind.MariaDbGtid && transaction.Gtid is not null
            ? BinlogStart.FromGtid(transaction.GtidPosition)
            : BinlogStart.FromPosition(transaction.Position.FileName, transaction.Position.Position);
    }

    private TimeSpan Backoff(int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 20));
        var delay = TimeSpan.FromMilliseconds(Math.Min(_options.ReconnectBackoff.TotalMilliseconds * factor, _options.MaxReconnectBackoff.TotalMilliseconds));
        return delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 50));
    }

    /// <summary>Whether an exception means "the connection is gone" (worth reconnecting) rather than a fatal error.</summary>
    internal static bool IsConnectionLoss(Exception ex) => ex switch
    {
        BinlogFormatException => false,
        ReplicationProtocolException => true,
        ReplicationConnectionException => true, // lost, reset, end of stream, read (heartbeat) timeout, cannot connect
        ReplicationException server => server.Number is 1040 // too many connections
            or 1053 // server shutdown in progress
            or 1152 or 1153 or 1154 or 1155 or 1156 or 1157 or 1158 or 1159 or 1160 or 1161 // network errors
            or 1317 // query interrupted
            or 1927 // connection killed
            or 2006 or 2013,
        IOException or SocketException or TimeoutException => true,
        OperationCanceledException => true, // the caller's token is checked before this is asked
        _ => false,
    };

    [LoggerMessage(1, LogLevel.Warning, "Binlog connection lost ({Message}); reconnecting from {Resume} in {DelayMs:0} ms (attempt {Attempt})")]
    private static partial void LogConnectionLost(ILogger logger, string message, string resume, double delayMs, int attempt);

    [LoggerMessage(2, LogLevel.Information, "Binlog connection re-established at {Resume} after {Attempts} attempt(s)")]
    private static partial void LogReconnected(ILogger logger, string resume, int attempts);
}

/// <summary>The binlog connection was lost and could not be re-established within the configured attempts and time.</summary>
public sealed class BinlogConnectionLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BinlogConnectionLostException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BinlogConnectionLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the last error.</summary>
    public BinlogConnectionLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
