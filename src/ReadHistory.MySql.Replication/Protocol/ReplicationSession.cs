using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using MySqlConnector;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>
/// One authenticated protocol connection for the replication client: handshake v10, capability negotiation,
/// authentication (mysql_native_password, caching_sha2_password, auth switch), optional TLS, and packet framing.
/// Settings come from a MySqlConnector connection string (the same keys the storage pools read). Not thread-safe:
/// one command at a time. Every network wait has a deadline (Connection Timeout while connecting,
/// <see cref="ReadTimeout"/> afterwards), enforced by <see cref="Watchdog"/>, so no read hangs forever.
/// States: connecting (<c>_connecting</c>, deadlines abort with <see cref="AbortReason.ConnectTimeout"/>), ready,
/// broken (a failed read or write, an abort, or a protocol error: never used again), disposed.
/// </summary>
internal sealed partial class ReplicationSession : IAsyncDisposable, IDisposable
{
    /// <summary>Largest payload of one packet; a payload this long continues in the next packet.</summary>
    internal const int MaxPacketPayload = 0xFF_FFFF;
    private const int MaxJoinedPayload = 1 << 30;
    private const int DefaultReadBufferSize = 64 * 1024;
    private const byte ComQuit = 0x01;

    private readonly string _hostDescription;
    private Socket? _socket;
    private Stream? _stream;
    private byte[] _readBuffer = new byte[DefaultReadBufferSize];
    private int _readStart;
    private int _readEnd;
    private byte[]? _joinBuffer;
    private byte[]? _sendBuffer;
    private byte _sequenceId;
    private long _ioDeadline;
    private int _readTimeoutMilliseconds;
    private volatile AbortReason _abortReason;
    private volatile bool _broken;
    private bool _disposed;
    private bool _connecting;
    private byte[] _nonce = [];

    private ReplicationSession(MySqlConnectionStringBuilder settings)
    {
        Settings = settings;
        IsUnixSocket = settings.ConnectionProtocol == MySqlConnectionProtocol.UnixSocket || settings.Server.StartsWith('/');
        _hostDescription = IsUnixSocket ? settings.Server : settings.Server + ":" + settings.Port.ToString(CultureInfo.InvariantCulture);
        _readTimeoutMilliseconds = settings.DefaultCommandTimeout == 0 ? -1 : checked((int)settings.DefaultCommandTimeout * 1000);
    }

    /// <summary>The settings this session was opened with.</summary>
    public MySqlConnectionStringBuilder Settings { get; }

    /// <summary>Whether <see cref="MySqlConnectionStringBuilder.Server"/> names a Unix socket.</summary>
    public bool IsUnixSocket { get; }

    /// <summary>The server's version string as sent in the handshake (MariaDB's "5.5.5-" prefix removed).</summary>
    public string ServerVersion { get; private set; } = string.Empty;

    /// <summary>Whether the server is MariaDB.</summary>
    public bool IsMariaDb { get; private set; }

    /// <summary>The server's connection (thread) id.</summary>
    public uint ConnectionId { get; private set; }

    /// <summary>The capability flags the server offered.</summary>
    public ProtocolCapabilities ServerCapabilities { get; private set; }

    /// <summary>The capability flags in force (what the client asked for and the server offered).</summary>
    public ProtocolCapabilities Capabilities { get; private set; }

    /// <summary>Whether the connection is encrypted with TLS.</summary>
    public bool IsTls { get; private set; }

    /// <summary>Whether the connection failed and must not be used again.</summary>
    public bool IsBroken => _broken;

    /// <summary>The default database sent in the handshake.</summary>
    public string Database { get; private set; } = string.Empty;

    /// <summary>The authentication plugin that completed the handshake.</summary>
    public string AuthenticationPlugin { get; private set; } = string.Empty;

    /// <summary>
    /// Longest wait for the server in one network read or write after connecting; <see cref="Timeout.InfiniteTimeSpan"/>
    /// for none. Defaults to Default Command Timeout (0 there means none).
    /// </summary>
    public TimeSpan ReadTimeout
    {
        get => _readTimeoutMilliseconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(_readTimeoutMilliseconds);
        set => _readTimeoutMilliseconds = value == Timeout.InfiniteTimeSpan || value <= TimeSpan.Zero ? -1 : checked((int)value.TotalMilliseconds);
    }

    /// <summary>Whether result sets end with OK instead of EOF packets (CLIENT_DEPRECATE_EOF).</summary>
    internal bool DeprecateEof => (Capabilities & ProtocolCapabilities.DeprecateEof) != 0;

    /// <summary>Opens, negotiates, optionally encrypts and authenticates a new connection.</summary>
    public static async ValueTask<ReplicationSession> ConnectAsync(MySqlConnectionStringBuilder settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var session = new ReplicationSession(settings);
        try
        {
            await session.OpenAsync(cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Starts a new command: the payload goes out with sequence id 0 (split into several packets from 16 MiB).</summary>
    public ValueTask SendCommandAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        _sequenceId = 0;
        return SendPayloadAsync(payload, cancellationToken);
    }

    /// <summary>One logical payload (multi-packet payloads joined). The memory stays valid until the next receive.</summary>
    public ValueTask<ReadOnlyMemory<byte>> ReceivePayloadAsync(CancellationToken cancellationToken)
    {
        var available = _readEnd - _readStart;
        if (available >= 4)
        {
            var buffer = _readBuffer;
            var start = _readStart;
            var length = buffer[start] | (buffer[start + 1] << 8) | (buffer[start + 2] << 16);
            if (length < MaxPacketPayload && available - 4 >= length)
            {
                if (buffer[start + 3] != _sequenceId)
                {
                    return ValueTask.FromException<ReadOnlyMemory<byte>>(SequenceError(buffer[start + 3]));
                }

                _sequenceId++;
                _readStart = start + 4 + length;
                return new ValueTask<ReadOnlyMemory<byte>>(new ReadOnlyMemory<byte>(buffer, start + 4, length));
            }
        }

        return ReceiveSlowAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        if (!_broken && _stream is not null)
        {
            try
            {
                // COM_QUIT, best effort and bounded: the server closes its side.
                _readTimeoutMilliseconds = 1000;
                await SendCommandAsync(new[] { ComQuit }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (ReplicationException)
            {
                // Closing anyway.
            }
        }

        Dispose();
    }

    /// <summary>Closes the connection at once (a dump connection cannot take COM_QUIT in the middle of the stream).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _broken = true;
        Watchdog.Unregister(this);
        if (_abortReason == AbortReason.None)
        {
            _abortReason = AbortReason.Disposed;
        }

        try
        {
            _stream?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            // Closing a failed stream can throw; the socket is closed below regardless.
        }

        _socket?.Dispose();
    }

    /// <summary>Called by <see cref="Watchdog"/>: aborts an overrun network wait.</summary>
    internal void CheckDeadline(long now)
    {
        var deadline = Volatile.Read(ref _ioDeadline);
        if (deadline == 0 || now < deadline || Interlocked.CompareExchange(ref _ioDeadline, 0, deadline) != deadline)
        {
            return;
        }

        Abort(_connecting ? AbortReason.ConnectTimeout : AbortReason.ReadTimeout);
    }

    /// <summary>Closes the socket under any pending read or write, which then fails with the reason.</summary>
    internal void Abort(AbortReason reason)
    {
        if (_abortReason == AbortReason.None)
        {
            _abortReason = reason;
        }

        _broken = true;
        try
        {
            _socket?.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        try
        {
            _socket?.Dispose();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
    }

    /// <summary>A protocol violation: marks the session broken.</summary>
    internal ReplicationProtocolException ProtocolError(string message)
    {
        _broken = true;
        return new ReplicationProtocolException(message);
    }

    private async ValueTask SendPayloadAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var offset = 0;
        while (true)
        {
            var chunk = Math.Min(MaxPacketPayload, payload.Length - offset);
            var size = chunk + 4;
            if (_sendBuffer is null || _sendBuffer.Length < size)
            {
                _sendBuffer = new byte[Math.Max(size, 4096)];
            }

            _sendBuffer[0] = (byte)chunk;
            _sendBuffer[1] = (byte)(chunk >> 8);
            _sendBuffer[2] = (byte)(chunk >> 16);
            _sendBuffer[3] = _sequenceId++;
            payload.Span.Slice(offset, chunk).CopyTo(_sendBuffer.AsSpan(4));
            await WriteAsync(_sendBuffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
            offset += chunk;
            if (chunk < MaxPacketPayload)
            {
                break;
            }
        }

        if (_sendBuffer is { Length: > 1024 * 1024 })
        {
            _sendBuffer = null;
        }
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_broken || _stream is null)
        {
            throw CreateIOException(null);
        }

        ArmDeadline();
        try
        {
            await _stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsIOFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw CreateIOException(ex);
        }
        finally
        {
            Volatile.Write(ref _ioDeadline, 0);
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReceiveSlowAsync(CancellationToken cancellationToken)
    {
        var joined = 0;
        while (true)
        {
            await FillAsync(4, cancellationToken).ConfigureAwait(false);
            var start = _readStart;
            var length = _readBuffer[start] | (_readBuffer[start + 1] << 8) | (_readBuffer[start + 2] << 16);
            var sequence = _readBuffer[start + 3];
            if (sequence != _sequenceId)
            {
                throw SequenceError(sequence);
            }

            // The limit is checked before anything is buffered: a hostile length cannot make the client allocate.
            if (joined + length > MaxJoinedPayload)
            {
                throw ProtocolError($"payload larger than {MaxJoinedPayload} bytes");
            }

            await FillAsync(4 + length, cancellationToken).ConfigureAwait(false);
            _sequenceId++;
            start = _readStart;
            _readStart = start + 4 + length;
            if (joined == 0 && length < MaxPacketPayload)
            {
                return new ReadOnlyMemory<byte>(_readBuffer, start + 4, length);
            }

            if (_joinBuffer is null || _joinBuffer.Length < joined + length)
            {
                var bigger = new byte[Math.Max(joined + length, (_joinBuffer?.Length ?? 0) * 2)];
                _joinBuffer?.AsSpan(0, joined).CopyTo(bigger);
                _joinBuffer = bigger;
            }

            Buffer.BlockCopy(_readBuffer, start + 4, _joinBuffer, joined, length);
            joined += length;
            if (length < MaxPacketPayload)
            {
                return new ReadOnlyMemory<byte>(_joinBuffer, 0, joined);
            }
        }
    }

    private async ValueTask FillAsync(int needed, CancellationToken cancellationToken)
    {
        if (_readEnd - _readStart >= needed)
        {
            return;
        }

        if (_readBuffer.Length - _readStart < needed || (_readBuffer.Length > DefaultReadBufferSize * 4 && needed <= DefaultReadBufferSize))
        {
            var available = _readEnd - _readStart;
            var target = _readBuffer;
            if (needed > _readBuffer.Length || (_readBuffer.Length > DefaultReadBufferSize * 4 && needed <= DefaultReadBufferSize && available <= DefaultReadBufferSize))
            {
                target = new byte[Math.Max(needed, DefaultReadBufferSize)];
            }

            Buffer.BlockCopy(_readBuffer, _readStart, target, 0, available);
            _readBuffer = target;
            _readStart = 0;
            _readEnd = available;
        }

        while (_readEnd - _readStart < needed)
        {
            if (_broken || _stream is null)
            {
                throw CreateIOException(null);
            }

            int read;
            ArmDeadline();
            try
            {
                read = await _stream.ReadAsync(_readBuffer.AsMemory(_readEnd), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _broken = true;
                throw;
            }
            catch (Exception ex) when (IsIOFailure(ex))
            {
                throw CreateIOException(ex);
            }
            finally
            {
                Volatile.Write(ref _ioDeadline, 0);
            }

            if (read == 0)
            {
                throw CreateIOException(null);
            }

            _readEnd += read;
        }
    }

    private void ArmDeadline()
    {
        if (_readTimeoutMilliseconds >= 0)
        {
            Volatile.Write(ref _ioDeadline, Environment.TickCount64 + Math.Max(1, _readTimeoutMilliseconds));
        }
    }

    private static bool IsIOFailure(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or AuthenticationException;

    /// <summary>The exception for a failed socket: marks the session broken and says why (timeout, cancel, closed, reset).</summary>
    private ReplicationConnectionException CreateIOException(Exception? inner)
    {
        var reason = _abortReason;
        _broken = true;
        return reason switch
        {
            AbortReason.ConnectTimeout => new ReplicationConnectionException(ReplicationConnectionException.CannotConnect,
                $"Connect Timeout expired: {_hostDescription} did not complete the handshake within {Settings.ConnectionTimeout} s.", inner),
            AbortReason.ReadTimeout => new ReplicationConnectionException(ReplicationConnectionException.ServerLost,
                $"The server {_hostDescription} sent nothing for {ReadTimeoutDescription()}; the connection was closed.", inner),
            AbortReason.Cancelled => new ReplicationConnectionException(ReplicationConnectionException.ServerLost, "The operation was cancelled and the connection was closed.", inner),
            AbortReason.Disposed => new ReplicationConnectionException(ReplicationConnectionException.ServerLost, "The connection was closed.", inner),
            _ when inner is null => new ReplicationConnectionException(ReplicationConnectionException.ServerLost, $"The server {_hostDescription} closed the connection (end of stream)."),
            _ => new ReplicationConnectionException(ReplicationConnectionException.ServerLost, $"Lost connection to the server {_hostDescription}: {inner.Message}", inner),
        };
    }

    private string ReadTimeoutDescription() =>
        _readTimeoutMilliseconds < 0 ? "too long" : (_readTimeoutMilliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private ReplicationProtocolException SequenceError(byte actual) =>
        ProtocolError($"packet sequence number {actual}, expected {_sequenceId}");
}
