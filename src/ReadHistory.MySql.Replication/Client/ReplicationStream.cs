using System.Globalization;
using System.Net;
using ReadHistory.MySql.Protocol;
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
    private readonly ServerSession _session;
    private readonly BinlogEventDecoder _decoder;

    private readonly bool _stopAtEnd;

    private ReplicationStream(ServerSession session, BinlogEventDecoder decoder, BinlogStart start, BinlogTransactionAssembler assembler, bool stopAtEnd)
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
        var session = await ServerSession.ConnectAsync(settings, cancellationToken).ConfigureAwait(false);
        try
        {
            session.ReadTimeout = SetupTimeout;
            start = await ResolveAsync(session, start, cancellationToken).ConfigureAwait(false);
            if (start.Kind == BinlogStartKind.MySqlGtid && session.IsMariaDb)
            {
                throw new NotSupportedException("A MySQL GTID set cannot start a dump on MariaDB; use a MariaDB GTID position (domain-server-seq).");
            }

            await ExecuteAsync(session, "SET @master_binlog_checksum = @@global.binlog_checksum", cancellationToken).ConfigureAwait(false);
            if (!session.IsMariaDb)
            {
                await ExecuteAsync(session, "SET @source_binlog_checksum = @@global.binlog_checksum", cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(session, "SET @mariadb_slave_capability = 4", cancellationToken).ConfigureAwait(false);
            if (start.Kind == BinlogStartKind.MariaDbGtid)
            {
                var state = start.GtidPosition!.ToString();
                await ExecuteAsync(session, $"SET @slave_connect_state = '{state}'", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(session, "SET @slave_gtid_strict_mode = 0", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(session, "SET @slave_gtid_ignore_duplicates = 0", cancellationToken).ConfigureAwait(false);
            }

            if (options.HeartbeatInterval > TimeSpan.Zero)
            {
                var nanoseconds = (long)(options.HeartbeatInterval.TotalMilliseconds * 1_000_000);
                await ExecuteAsync(session, string.Create(CultureInfo.InvariantCulture, $"SET @master_heartbeat_period = {nanoseconds}"), cancellationToken).ConfigureAwait(false);
            }

            await session.SendCommandAsync(
                ReplicationCommands.RegisterSlave(options.ServerId, Dns.GetHostName(), settings.UserID, settings.Password, 0),
                cancellationToken).ConfigureAwait(false);
            ExpectOk(await session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false), "COM_REGISTER_SLAVE");

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
                throw ErrorPayload.Create(span).ToException();
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

    private static async Task<BinlogStart> ResolveAsync(ServerSession session, BinlogStart start, CancellationToken cancellationToken)
    {
        switch (start.Kind)
        {
            case BinlogStartKind.Current:
            {
                var rows = await QueryAsync(session, "SHOW MASTER STATUS", cancellationToken).ConfigureAwait(false);
                if (rows.Count == 0 || rows[0].Length < 2 || rows[0][0] is null)
                {
                    throw new InvalidOperationException("SHOW MASTER STATUS returned nothing: the server does not write a binlog (log_bin is off).");
                }

                return BinlogStart.FromPosition(rows[0][0]!, ulong.Parse(rows[0][1]!, CultureInfo.InvariantCulture));
            }

            case BinlogStartKind.Earliest:
            {
                var rows = await QueryAsync(session, "SHOW BINARY LOGS", cancellationToken).ConfigureAwait(false);
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

    /// <summary>COM_QUERY for a statement without rows; throws the server's error.</summary>
    private static async Task ExecuteAsync(ServerSession session, string sql, CancellationToken cancellationToken)
    {
        await session.SendCommandAsync(ReplicationCommands.Query(sql), cancellationToken).ConfigureAwait(false);
        ExpectOk(await session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false), sql);
    }

    /// <summary>COM_QUERY returning a text result set (rows of nullable strings).</summary>
    private static async Task<List<string?[]>> QueryAsync(ServerSession session, string sql, CancellationToken cancellationToken)
    {
        await session.SendCommandAsync(ReplicationCommands.Query(sql), cancellationToken).ConfigureAwait(false);
        var first = await session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        if (first.Span[0] == 0xFF)
        {
            throw ErrorPayload.Create(first.Span).ToException();
        }

        var rows = new List<string?[]>();
        if (first.Span[0] == 0x00)
        {
            return rows;
        }

        var header = new BinlogSpanReader(first.Span, sql + " result");
        var columns = header.ReadLengthEncodedCount("column count", 4096);
        for (var i = 0; i < columns; i++)
        {
            await session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!session.DeprecateEof)
        {
            await session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var payload = await session.ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
            var span = payload.Span;
            if (span[0] == 0xFF)
            {
                throw ErrorPayload.Create(span).ToException();
            }

            if (span[0] == 0xFE && span.Length < 0xFF_FFFF)
            {
                return rows;
            }

            var reader = new BinlogSpanReader(span, sql + " row");
            var row = new string?[columns];
            for (var i = 0; i < columns; i++)
            {
                if (reader.Rest[0] == 0xFB)
                {
                    reader.Skip(1, "NULL");
                    continue;
                }

                row[i] = System.Text.Encoding.UTF8.GetString(reader.ReadLengthEncodedBytes("value"));
            }

            rows.Add(row);
        }
    }

    private static void ExpectOk(ReadOnlyMemory<byte> payload, string what)
    {
        var span = payload.Span;
        if (span.Length > 0 && span[0] == 0xFF)
        {
            throw ErrorPayload.Create(span).ToException();
        }

        if (span.Length == 0 || span[0] != 0x00)
        {
            throw new MySqlProtocolException($"{what}: expected OK, but the reply starts with 0x{(span.Length == 0 ? 0 : span[0]):X2}.");
        }
    }
}
