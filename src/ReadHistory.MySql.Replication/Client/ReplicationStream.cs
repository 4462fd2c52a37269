using System.Globalization;
using System.Net;
using MySqlConnector;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Client;

/// <summary>
/// One replication connection: handshake, the SET statements, COM_REGISTER_SLAVE, COM_BINLOG_DUMP(_GTID), then
/// the stream of packets (0x00 + event, 0xFE end of stream in non-blocking mode, 0xFF error).
/// </summary>
internal sealed class ReplicationStream : IAsyncDisposable
{
    private static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(30);
    private readonly ReplicationSession _session;
    private readonly BinlogEventDecoder _decoder;

    private readonly bool _stopAtEnd;

    private ReplicationStream(ReplicationSession session, BinlogEventDecoder decoder, BinlogStart start, BinlogTransactionAssembler assembler, bool stopAtEnd)
    {
        _stopAtEnd = stopAtEnd;
        _session = session;
        _decoder = decoder;
        Start = start;
        Assembler = assembler;
    }

    /// <summary>The concrete start (file and position, or GTID) this stream was opened at.</summary>
    public BinlogStart Start { get; }

    /// <summary>Groups this stream's events into transactions.</summary>
    public BinlogTransactionAssembler Assembler { get; }

    /// <summary>Events received so far.</summary>
    public long EventCount { get; private set; }

    /// <summary>The server's version string.</summary>
    public string ServerVersion => _session.ServerVersion;

    /// <summary>Connects and starts the dump at <paramref name="start"/> (Current and Earliest are resolved to a file position first).</summary>
    public static async Task<ReplicationStream> OpenAsync(BinlogClientOptions options, BinlogStart start, CancellationToken cancellationToken)
    {
        var settings = new MySqlConnectionStringBuilder(options.ConnectionString);
        var session = await ReplicationSession.ConnectAsync(settings, cancellationToken).ConfigureAwait(false);
        try
        {
            // The setup queries wait at most Default Command Timeout (30 s when the string says nothing).
            session.ReadTimeout = settings.DefaultCommandTimeout > 0 ? TimeSpan.FromSeconds(settings.DefaultCommandTimeout) : SetupTimeout;
            start = await ResolveAsync(session, start, cancellationToken).ConfigureAwait(false);
            if (start.Kind == BinlogStartKind.MySqlGtid && session.IsMariaDb)
            {
                throw new NotSupportedException("A MySQL GTID set cannot start a dump on MariaDB; use a MariaDB GTID position (domain-server-seq).");
            }

            await session.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum", cancellationToken).ConfigureAwait(false);
            if (!session.IsMariaDb)
            {
                await session.ExecuteAsync("SET @source_binlog_checksum = @@global.binlog_checksum", cancellationToken).ConfigureAwait(false);
            }

            await session.ExecuteAsync("SET @mariadb_slave_capability = 4", cancellationToken).ConfigureAwait(false);
            if (start.Kind == BinlogStartKind.MariaDbGtid)
            {
                var state = start.GtidPosition!.ToString();
                await session.ExecuteAsync($"SET @slave_connect_state = '{state}'", cancellationToken).ConfigureAwait(false);
                await session.ExecuteAsync("SET @slave_gtid_strict_mode = 0", cancellationToken).ConfigureAwait(false);
                await session.ExecuteAsync("SET @slave_gtid_ignore_duplicates = 0", cancellationToken).ConfigureAwait(false);
            }

            if (options.HeartbeatInterval > TimeSpan.Zero)
            {
                var nanoseconds = (long)(options.HeartbeatInterval.TotalMilliseconds * 1_000_000);
                await session.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"SET @master_heartbeat_period = {nanoseconds}"), cancellationToken).ConfigureAwait(false);
            }

            await session.SendCommandAsync(
                ReplicationCommands.RegisterSlave(options.ServerId, Dns.GetHostName(), settings.UserID, settings.Password, 0),
                cancellationToken).ConfigureAwait(false);
            await ExpectOkAsync(session, "COM_REGISTER_SLAVE", cancellationToken).ConfigureAwait(false);

            var flags = options.StopAtEnd ? ReplicationCommands.DumpNonBlock : (ushort)0;
            var dump = start.Kind switch
            {
                BinlogStartKind.MariaDbGtid => ReplicationCommands.BinlogDump(4, flags, options.ServerId, string.Empty),
                BinlogStartKind.MySqlGtid => ReplicationCommands.BinlogDumpGtid(flags, options.ServerId, string.Empty, 4, start.MySqlGtidSet),
                _ => ReplicationCommands.BinlogDump(checked((uint)start.Position!.Value.Position), flags, options.ServerId, start.Position.Value.FileName),
            };
            await session.SendCommandAsync(dump, cancellationToken).ConfigureAwait(false);

            // From here the server only talks when it has events, heartbeats included: silence means a lost server.
            session.ReadTimeout = options.HeartbeatInterval > TimeSpan.Zero
                ? options.HeartbeatInterval * options.HeartbeatTimeoutFactor
                : Timeout.InfiniteTimeSpan;
            var decoder = new BinlogEventDecoder(options.VerifyChecksums, options.TableFilter);
            var assembler = new BinlogTransactionAssembler(start.GtidPosition, start.Position?.FileName);
            return new ReplicationStream(session, decoder, start, assembler, options.StopAtEnd);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The next event, or null when the server ends the stream (non-blocking mode).</summary>
    public async ValueTask<BinlogEvent?> NextEventAsync(CancellationToken cancellationToken)
    {
        var payload = await _session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        var span = payload.Span;
        if (span.IsEmpty)
        {
            throw new BinlogFormatException("replication stream: expected a packet with a status byte, but an empty packet arrived.");
        }

        switch (span[0])
        {
            case 0x00:
                break;
            case 0xFF:
                throw ErrorPacket.ToException(span);
            case 0xFE when span.Length < 9:
                // Non-blocking dump: the end of the binlog. Blocking dump: the server ended the dump (shutdown, kill).
                return _stopAtEnd ? null : throw new EndOfStreamException("the server ended the binlog dump (EOF packet), e.g. while shutting down");
            default:
                throw new BinlogFormatException($"replication stream: expected 0x00 (event), 0xFE (end) or 0xFF (error), but the packet starts with 0x{span[0]:X2}.");
        }

        EventCount++;
        var eventBytes = payload[1..];
        var isRows = eventBytes.Length > BinlogEventHeader.Size
            && RowsEvent.IsRowsEvent((BinlogEventType)eventBytes.Span[4], out _, out _, out _)
            && !_decoder.IsExcludedRowsEvent(eventBytes.Span);

        // Rows events keep their bytes (they are decoded later); the receive buffer is reused, so copy those only.
        return _decoder.Decode(isRows ? eventBytes.ToArray() : eventBytes);
    }

    /// <summary>The next committed transaction, or null when the server ends the stream.</summary>
    public async ValueTask<BinlogTransaction?> NextTransactionAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var binlogEvent = await NextEventAsync(cancellationToken).ConfigureAwait(false);
            if (binlogEvent is null)
            {
                return null;
            }

            if (Assembler.Add(binlogEvent) is { } transaction)
            {
                return transaction;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        // A dump connection cannot take COM_QUIT in the middle of the stream; just close it.
        _session.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task<BinlogStart> ResolveAsync(ReplicationSession session, BinlogStart start, CancellationToken cancellationToken)
    {
        switch (start.Kind)
        {
            case BinlogStartKind.Current:
            {
                var rows = await session.QueryAsync("SHOW MASTER STATUS", cancellationToken).ConfigureAwait(false);
                if (rows.Count == 0 || rows[0].Length < 2 || rows[0][0] is null)
                {
                    throw new InvalidOperationException("SHOW MASTER STATUS returned nothing: the server does not write a binlog (log_bin is off).");
                }

                return ulong.TryParse(rows[0][1], NumberStyles.None, CultureInfo.InvariantCulture, out var position)
                    ? BinlogStart.FromPosition(rows[0][0]!, position)
                    : throw session.ProtocolError($"SHOW MASTER STATUS: expected a position, but got '{rows[0][1]}'");
            }

            case BinlogStartKind.Earliest:
            {
                var rows = await session.QueryAsync("SHOW BINARY LOGS", cancellationToken).ConfigureAwait(false);
                if (rows.Count == 0 || rows[0][0] is null)
                {
                    throw new InvalidOperationException("SHOW BINARY LOGS returned nothing: the server does not write a binlog (log_bin is off).");
                }

                return BinlogStart.FromPosition(rows[0][0]!, 4);
            }

            default:
                return start;
        }
    }

    /// <summary>Reads the OK of a command (COM_REGISTER_SLAVE), or throws the server's error.</summary>
    private static async Task ExpectOkAsync(ReplicationSession session, string what, CancellationToken cancellationToken)
    {
        var payload = await session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        var span = payload.Span;
        if (ErrorPacket.IsError(span))
        {
            throw ErrorPacket.ToException(span);
        }

        if (span.IsEmpty || span[0] != 0x00)
        {
            throw session.ProtocolError($"{what}: expected OK, but the reply starts with 0x{(span.IsEmpty ? 0 : span[0]):X2}.");
        }
    }
}
