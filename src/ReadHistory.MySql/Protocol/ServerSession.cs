using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace ReadHistory.MySql.Protocol;

/// <summary>Whether an I/O call may block the thread (sync ADO.NET methods) or must be truly asynchronous.</summary>
internal enum IOBehavior
{
    Asynchronous,
    Synchronous,
}

/// <summary>Why a session's socket was closed under it.</summary>
internal enum AbortReason
{
    None,
    ConnectTimeout,
    ReadTimeout,
    CommandTimeout,
    Cancelled,
    Disposed,
}

/// <summary>Why a running command is being killed.</summary>
internal enum CancelReason
{
    None,
    User,
    Timeout,
}

/// <summary>
/// One authenticated protocol connection to a MySQL/MariaDB server: handshake v10, capability negotiation,
/// authentication (mysql_native_password, caching_sha2_password, auth switch), optional TLS, and packet I/O.
/// Not thread-safe: one command at a time. Every network wait has a deadline (connect timeout while connecting,
/// <see cref="ReadTimeout"/> afterwards), enforced by <see cref="Watchdog"/>, so no read hangs forever.
/// </summary>
internal sealed partial class ServerSession : IAsyncDisposable, IDisposable
{
    internal const int MaxPacketPayload = 0xFF_FFFF;
    private const int MaxJoinedPayload = 1 << 30;
    private const int DefaultReadBufferSize = 64 * 1024;
    private const int KillGraceMilliseconds = 3000;
    private const ProtocolCapabilities RequestedCapabilities =
        ProtocolCapabilities.LongPassword | ProtocolCapabilities.LongFlag | ProtocolCapabilities.Protocol41 |
        ProtocolCapabilities.Transactions | ProtocolCapabilities.SecureConnection | ProtocolCapabilities.MultiStatements |
        ProtocolCapabilities.MultiResults | ProtocolCapabilities.PreparedStatementMultiResults | ProtocolCapabilities.PluginAuth |
        ProtocolCapabilities.PluginAuthLengthEncodedClientData | ProtocolCapabilities.DeprecateEof | ProtocolCapabilities.IgnoreSigpipe;

    private static long _nextSessionId;
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

    // Command cancellation (KILL QUERY on a side connection).
    private readonly Lock _cancelLock = new();
    private long _commandId;
    private bool _commandActive;
    private int _commandTimeoutMilliseconds;
    private CancelReason _cancelReason;
    private long _hardDeadline;
    private Task? _killTask;

    private ServerSession(MySqlConnectionStringBuilder settings)
    {
        Settings = settings;
        Id = Interlocked.Increment(ref _nextSessionId);
        _hostDescription = settings.IsUnixSocket ? settings.Server : settings.Server + ":" + settings.Port.ToString(CultureInfo.InvariantCulture);
        Writer = new PayloadWriter();
        _readTimeoutMilliseconds = settings.DefaultCommandTimeout == 0 ? -1 : checked((int)settings.DefaultCommandTimeout * 1000);
    }

    /// <summary>The settings this session was opened with.</summary>
    public MySqlConnectionStringBuilder Settings { get; }

    /// <summary>A process-unique number of this session (for logs).</summary>
    public long Id { get; }

    /// <summary>The server's version string as sent in the handshake (MariaDB's "5.5.5-" prefix removed).</summary>
    public string ServerVersion { get; private set; } = string.Empty;

    /// <summary>The numeric part of <see cref="ServerVersion"/>.</summary>
    public Version ServerVersionNumber { get; private set; } = new(0, 0);

    /// <summary>Whether the server is MariaDB.</summary>
    public bool IsMariaDb { get; private set; }

    /// <summary>The server's connection (thread) id, as used by KILL.</summary>
    public uint ConnectionId { get; private set; }

    /// <summary>The capability flags the server offered.</summary>
    public ProtocolCapabilities ServerCapabilities { get; private set; }

    /// <summary>The capability flags in force (what the client asked for and the server offered).</summary>
    public ProtocolCapabilities Capabilities { get; private set; }

    /// <summary>Whether the connection is encrypted with TLS.</summary>
    public bool IsTls { get; private set; }

    /// <summary>Status flags of the last OK/EOF packet seen.</summary>
    public ServerStatus LastStatus { get; set; }

    /// <summary>Whether the connection failed and must not be reused.</summary>
    public bool IsBroken => _broken;

    /// <summary>The current default database as far as this client knows (handshake or COM_INIT_DB).</summary>
    public string Database { get; internal set; } = string.Empty;

    /// <summary>The authentication plugin that completed the handshake.</summary>
    public string AuthenticationPlugin { get; private set; } = string.Empty;

    /// <summary>
    /// Longest wait for the server in one network read or write after connecting; <see cref="Timeout.InfiniteTimeSpan"/>
    /// for none (for a binlog stream). Defaults to Default Command Timeout (0 there means none).
    /// </summary>
    public TimeSpan ReadTimeout
    {
        get => _readTimeoutMilliseconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(_readTimeoutMilliseconds);
        set => _readTimeoutMilliseconds = value == Timeout.InfiniteTimeSpan || value <= TimeSpan.Zero ? -1 : checked((int)value.TotalMilliseconds);
    }

    /// <summary>The builder of command payloads (reused by the owner of the session).</summary>
    internal PayloadWriter Writer { get; }

    /// <summary>Pool bookkeeping: the pool this session belongs to, its generation and when it was last returned.</summary>
    internal object? Pool { get; set; }

    internal int PoolGeneration { get; set; }

    internal long LastReturnedTicks { get; set; }

    /// <summary>Whether the 0xFE/0xFF/0x00-terminated results use OK instead of EOF packets.</summary>
    internal bool DeprecateEof => (Capabilities & ProtocolCapabilities.DeprecateEof) != 0;

    /// <summary>Opens, negotiates, optionally encrypts and authenticates a new connection.</summary>
    public static ValueTask<ServerSession> ConnectAsync(MySqlConnectionStringBuilder settings, CancellationToken cancellationToken) =>
        ConnectAsync(settings, IOBehavior.Asynchronous, cancellationToken);

    internal static async ValueTask<ServerSession> ConnectAsync(MySqlConnectionStringBuilder settings, IOBehavior io, CancellationToken cancellationToken)
    {
        var session = new ServerSession(settings);
        try
        {
            await session.OpenAsync(io, cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch (Exception ex)
        {
            Log.ConnectFailed(MySqlLogging.Logger, session._hostDescription, ex.Message);
            session.Dispose();
            throw;
        }
    }

    /// <summary>Starts a new command: the payload goes out with sequence id 0 (split into several packets from 16 MiB).</summary>
    public ValueTask SendCommandAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        SendCommandAsync(payload, IOBehavior.Asynchronous, cancellationToken);

    internal ValueTask SendCommandAsync(ReadOnlyMemory<byte> payload, IOBehavior io, CancellationToken cancellationToken = default)
    {
        _sequenceId = 0;
        return SendPayloadAsync(payload, io, cancellationToken);
    }

    /// <summary>Starts a new command with the payload built in <see cref="Writer"/> (sequence id 0).</summary>
    internal ValueTask SendCommandFromWriterAsync(IOBehavior io, CancellationToken cancellationToken = default)
    {
        _sequenceId = 0;
        if (Writer.Length >= MaxPacketPayload)
        {
            return SendPayloadAsync(Writer.Payload, io, cancellationToken);
        }

        var packet = Writer.Packet;
        var span = packet.AsSpan();
        var length = packet.Count - PayloadWriter.HeaderSize;
        span[0] = (byte)length;
        span[1] = (byte)(length >> 8);
        span[2] = (byte)(length >> 16);
        span[3] = _sequenceId++;
        return WriteAsync(packet.AsMemory(), io, cancellationToken);
    }

    /// <summary>One logical payload (multi-packet payloads joined). The memory stays valid until the next receive.</summary>
    public ValueTask<ReadOnlyMemory<byte>> ReceivePayloadAsync(CancellationToken cancellationToken) =>
        ReceiveAsync(IOBehavior.Asynchronous, cancellationToken);

    internal ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(IOBehavior io, CancellationToken cancellationToken = default)
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

        return ReceiveSlowAsync(io, cancellationToken);
    }

    /// <summary>COM_PING; throws when the server does not answer OK.</summary>
    public async ValueTask PingAsync(IOBehavior io, CancellationToken cancellationToken = default)
    {
        Writer.Reset();
        Writer.Write(CommandKind.Ping);
        await SendCommandFromWriterAsync(io, cancellationToken).ConfigureAwait(false);
        await ReceiveOkAsync(io, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>COM_PING asynchronously.</summary>
    public ValueTask PingAsync(CancellationToken cancellationToken) => PingAsync(IOBehavior.Asynchronous, cancellationToken);

    /// <summary>Reads one payload that must be OK (ERR throws its exception).</summary>
    internal async ValueTask<OkPayload> ReceiveOkAsync(IOBehavior io, CancellationToken cancellationToken = default)
    {
        var payload = await ReceiveAsync(io, cancellationToken).ConfigureAwait(false);
        return ReadOk(payload.Span);
    }

    /// <summary>Interprets an OK payload (updating <see cref="LastStatus"/>), or throws for ERR or anything else.</summary>
    internal OkPayload ReadOk(ReadOnlySpan<byte> payload)
    {
        if (ErrorPayload.IsError(payload))
        {
            throw CreateServerException(ErrorPayload.Create(payload));
        }

        if (!OkPayload.IsOk(payload))
        {
            throw ProtocolError($"expected OK, got header 0x{(payload.Length == 0 ? 0 : payload[0]):X2}");
        }

        var ok = OkPayload.Create(payload);
        LastStatus = ok.Status;
        return ok;
    }

    /// <summary>Runs one SQL statement that returns no rows (text protocol) and reads its OK.</summary>
    internal async ValueTask<OkPayload> ExecuteSimpleAsync(string sql, IOBehavior io, CancellationToken cancellationToken = default)
    {
        Writer.Reset();
        Writer.Write(CommandKind.Query);
        Writer.WriteUtf8(sql);
        await SendCommandFromWriterAsync(io, cancellationToken).ConfigureAwait(false);
        var ok = await ReceiveOkAsync(io, cancellationToken).ConfigureAwait(false);
        while ((ok.Status & ServerStatus.MoreResultsExist) != 0)
        {
            ok = await ReceiveOkAsync(io, cancellationToken).ConfigureAwait(false);
        }

        return ok;
    }

    /// <summary>COM_RESET_CONNECTION, then COM_INIT_DB back to the configured database when it was changed.</summary>
    internal async ValueTask ResetAsync(IOBehavior io, CancellationToken cancellationToken = default)
    {
        Writer.Reset();
        Writer.Write(CommandKind.ResetConnection);
        await SendCommandFromWriterAsync(io, cancellationToken).ConfigureAwait(false);
        await ReceiveOkAsync(io, cancellationToken).ConfigureAwait(false);
        OnPreparedStatementsLost();
        if (!string.Equals(Database, Settings.Database, StringComparison.Ordinal) && Settings.Database.Length > 0)
        {
            await InitDatabaseAsync(Settings.Database, io, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>COM_INIT_DB.</summary>
    internal async ValueTask InitDatabaseAsync(string database, IOBehavior io, CancellationToken cancellationToken = default)
    {
        Writer.Reset();
        Writer.Write(CommandKind.InitDatabase);
        Writer.WriteUtf8(database);
        await SendCommandFromWriterAsync(io, cancellationToken).ConfigureAwait(false);
        await ReceiveOkAsync(io, cancellationToken).ConfigureAwait(false);
        Database = database;
    }

    /// <summary>Whether the socket looks alive without a round trip: nothing unexpected to read and not closed by the peer.</summary>
    internal bool IsSocketAlive()
    {
        if (_broken || _socket is null)
        {
            return false;
        }

        try
        {
            // Readable while idle means the peer closed it (or sent an unsolicited error, such as a kill notice).
            return !_socket.Poll(0, SelectMode.SelectRead) && _readStart == _readEnd;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Marks the session unusable (it will be closed instead of pooled).</summary>
    internal void MarkBroken(string reason)
    {
        if (!_broken)
        {
            _broken = true;
            Log.SessionBroken(MySqlLogging.Logger, ConnectionId, reason);
        }
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
                Writer.Reset();
                Writer.Write(CommandKind.Quit);
                await SendCommandFromWriterAsync(IOBehavior.Asynchronous).ConfigureAwait(false);
            }
            catch (MySqlException)
            {
                // Closing anyway.
            }
        }

        Dispose();
    }

    /// <inheritdoc />
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
        Writer.Dispose();
    }

    /// <summary>Called by <see cref="Watchdog"/>: acts on an overrun I/O deadline.</summary>
    internal void CheckDeadline(long now)
    {
        var deadline = Volatile.Read(ref _ioDeadline);
        if (deadline == 0 || now < deadline || Interlocked.CompareExchange(ref _ioDeadline, 0, deadline) != deadline)
        {
            return;
        }

        if (_connecting)
        {
            Abort(AbortReason.ConnectTimeout);
            return;
        }

        lock (_cancelLock)
        {
            if (_commandActive && _cancelReason == CancelReason.None)
            {
                // Soft stage: ask the server to stop the query; the read goes on and receives its ERR 1317.
                StartKillLocked(CancelReason.Timeout);
                Interlocked.CompareExchange(ref _ioDeadline, _hardDeadline, 0);
                return;
            }
        }

        Abort(_cancelReason switch
        {
            CancelReason.User => AbortReason.Cancelled,
            CancelReason.Timeout => AbortReason.CommandTimeout,
            _ => AbortReason.ReadTimeout,
        });
    }

    /// <summary>Closes the socket under any pending read or write, which then fails with the reason.</summary>
    internal void Abort(AbortReason reason)
    {
        if (_abortReason == AbortReason.None)
        {
            _abortReason = reason;
        }

        MarkBroken("aborted: " + reason);
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

    private async ValueTask OpenAsync(IOBehavior io, CancellationToken cancellationToken)
    {
        var settings = Settings;
        _connecting = true;
        var connectTimeout = settings.ConnectionTimeout == 0 ? -1 : checked((int)settings.ConnectionTimeout * 1000);
        var deadline = connectTimeout < 0 ? 0 : Environment.TickCount64 + connectTimeout;
        Watchdog.Register(this);
        using var connectCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (connectTimeout > 0)
        {
            connectCts.CancelAfter(connectTimeout);
        }

        try
        {
            _socket = await ConnectSocketAsync(settings, io, deadline, connectCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MySqlConnectionException(MySqlErrorCode.UnableToConnectToHost,
                $"Connect Timeout expired: could not connect to {_hostDescription} within {settings.ConnectionTimeout} s.");
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            var timedOut = _abortReason == AbortReason.ConnectTimeout;
            throw new MySqlConnectionException(MySqlErrorCode.UnableToConnectToHost, timedOut
                ? $"Connect Timeout expired: could not connect to {_hostDescription} within {settings.ConnectionTimeout} s."
                : $"Unable to connect to any of the specified MySQL hosts ({_hostDescription}): {ex.Message}", ex);
        }

        _stream = new NetworkStream(_socket, ownsSocket: false);

        // From here every network wait is bounded by the connect deadline.
        _readTimeoutMilliseconds = connectTimeout;
        using var registration = cancellationToken.CanBeCanceled ? cancellationToken.Register(static state => ((ServerSession)state!).Abort(AbortReason.Cancelled), this) : default;
        try
        {
            await HandshakeAsync(io, deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        _connecting = false;
        _readTimeoutMilliseconds = settings.DefaultCommandTimeout == 0 ? -1 : checked((int)settings.DefaultCommandTimeout * 1000);
        Database = settings.Database;
        Log.Connected(MySqlLogging.Logger, ConnectionId, _hostDescription, ServerVersion, IsTls);
    }

    private async ValueTask<Socket> ConnectSocketAsync(MySqlConnectionStringBuilder settings, IOBehavior io, long deadline, CancellationToken cancellationToken)
    {
        // Blocking connects (sync Open) stay off the socket engine's async path, so no continuation of theirs can
        // block its event thread; the watchdog closes the socket at the deadline.
        async ValueTask ConnectAsync(Socket socket, EndPoint endPoint)
        {
            if (io == IOBehavior.Synchronous)
            {
                _socket = socket;
                Volatile.Write(ref _ioDeadline, deadline);
                try
                {
                    socket.Connect(endPoint);
                }
                finally
                {
                    Volatile.Write(ref _ioDeadline, 0);
                    _socket = null;
                }
            }
            else
            {
                await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            }
        }

        if (settings.IsUnixSocket)
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await ConnectAsync(unix, new UnixDomainSocketEndPoint(settings.Server)).ConfigureAwait(false);
                return unix;
            }
            catch
            {
                unix.Dispose();
                throw;
            }
        }

        var host = settings.Server.Length == 0 ? "localhost" : settings.Server;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await ConnectAsync(socket, new IPEndPoint(address, (int)settings.Port)).ConfigureAwait(false);
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                return socket;
            }
            catch (SocketException ex)
            {
                last = ex;
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private async ValueTask HandshakeAsync(IOBehavior io, long deadline, CancellationToken cancellationToken)
    {
        _sequenceId = 0;
        var greeting = await ReceiveAsync(io, cancellationToken).ConfigureAwait(false);
        var handshake = ParseHandshake(greeting.Span);

        var settings = Settings;
        var useTls = settings.SslMode != MySqlSslMode.None && !settings.IsUnixSocket || settings.SslMode >= MySqlSslMode.Required;
        if (useTls && (ServerCapabilities & ProtocolCapabilities.Ssl) == 0)
        {
            if (settings.SslMode >= MySqlSslMode.Required)
            {
                throw new MySqlConnectionException(MySqlErrorCode.UnableToConnectToHost, $"SslMode={settings.SslMode} but the server {_hostDescription} does not offer TLS.");
            }

            useTls = false;
        }

        var capabilities = RequestedCapabilities & ServerCapabilities;
        if (!settings.UseAffectedRows)
        {
            capabilities |= ProtocolCapabilities.FoundRows & ServerCapabilities;
        }

        if (settings.Database.Length > 0)
        {
            capabilities |= ProtocolCapabilities.ConnectWithDatabase & ServerCapabilities;
        }

        if (useTls)
        {
            capabilities |= ProtocolCapabilities.Ssl;
        }

        if ((capabilities & ProtocolCapabilities.Protocol41) == 0 || (capabilities & ProtocolCapabilities.SecureConnection) == 0)
        {
            throw new MySqlProtocolException("the server supports neither CLIENT_PROTOCOL_41 nor CLIENT_SECURE_CONNECTION");
        }

        Capabilities = capabilities;
        if (useTls)
        {
            Writer.Reset();
            WriteHandshakePrefix(capabilities);
            await SendPayloadAsync(Writer.Payload, io, cancellationToken).ConfigureAwait(false);
            await StartTlsAsync(io, deadline, cancellationToken).ConfigureAwait(false);
        }

        var plugin = handshake.AuthPluginName is Authentication.CachingSha2Password ? Authentication.CachingSha2Password : Authentication.NativePassword;
        var authResponse = ComputeAuthResponse(plugin, _nonce);

        Writer.Reset();
        WriteHandshakePrefix(capabilities);
        Writer.WriteNullTerminatedString(settings.UserID);
        if ((capabilities & ProtocolCapabilities.PluginAuthLengthEncodedClientData) != 0)
        {
            Writer.WriteLengthEncodedBytes(authResponse);
        }
        else
        {
            Writer.Write((byte)authResponse.Length);
            Writer.Write(authResponse);
        }

        if ((capabilities & ProtocolCapabilities.ConnectWithDatabase) != 0)
        {
            Writer.WriteNullTerminatedString(settings.Database);
        }

        if ((capabilities & ProtocolCapabilities.PluginAuth) != 0)
        {
            Writer.WriteNullTerminatedString(plugin);
        }

        await SendPayloadAsync(Writer.Payload, io, cancellationToken).ConfigureAwait(false);
        await AuthenticateAsync(plugin, io, cancellationToken).ConfigureAwait(false);
    }

    private (string? AuthPluginName, int Unused) ParseHandshake(ReadOnlySpan<byte> payload)
    {
        if (ErrorPayload.IsError(payload))
        {
            // E.g. too many connections or host blocked: the server refuses before the handshake.
            var error = ErrorPayload.Create(payload);
            throw new MySqlException((MySqlErrorCode)error.ErrorCode, error.SqlState, error.Message);
        }

        var reader = new PayloadReader(payload);
        var protocolVersion = reader.ReadByte();
        if (protocolVersion != 10)
        {
            throw new MySqlProtocolException($"unsupported handshake protocol version {protocolVersion} (expected 10)");
        }

        var version = reader.ReadNullTerminatedString();
        IsMariaDb = version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        if (IsMariaDb && version.StartsWith("5.5.5-", StringComparison.Ordinal))
        {
            version = version[6..];
        }

        ServerVersion = version;
        ServerVersionNumber = ParseVersion(version);
        ConnectionId = reader.ReadUInt32();
        var nonce = new List<byte>(20);
        nonce.AddRange(reader.ReadSpan(8));
        reader.Skip(1);
        var capabilities = (uint)reader.ReadUInt16();
        string? pluginName = null;
        if (reader.Remaining > 0)
        {
            reader.ReadByte(); // character set
            reader.ReadUInt16(); // status
            capabilities |= (uint)reader.ReadUInt16() << 16;
            var authDataLength = reader.ReadByte();
            reader.Skip(10);
            if ((capabilities & (uint)ProtocolCapabilities.SecureConnection) != 0)
            {
                var part2Length = Math.Max(13, authDataLength - 8);
                var part2 = reader.ReadSpan(Math.Min(part2Length, reader.Remaining));
                if (part2.Length > 0 && part2[^1] == 0)
                {
                    part2 = part2[..^1];
                }

                nonce.AddRange(part2);
            }

            if ((capabilities & (uint)ProtocolCapabilities.PluginAuth) != 0 && reader.Remaining > 0)
            {
                pluginName = reader.ReadNullTerminatedString(allowEnd: true);
            }
        }

        ServerCapabilities = (ProtocolCapabilities)capabilities;
        _nonce = [.. nonce];
        return (pluginName, 0);
    }

    private static Version ParseVersion(string version)
    {
        var end = 0;
        while (end < version.Length && (char.IsAsciiDigit(version[end]) || version[end] == '.'))
        {
            end++;
        }

        return Version.TryParse(version[..end], out var parsed) ? parsed : new Version(0, 0);
    }

    private void WriteHandshakePrefix(ProtocolCapabilities capabilities)
    {
        Writer.WriteUInt32((uint)capabilities);
        Writer.WriteUInt32(MaxPacketPayload);
        Writer.Write(45); // utf8mb4_general_ci
        Writer.Write(new byte[23]);
    }

    private async ValueTask StartTlsAsync(IOBehavior io, long deadline, CancellationToken cancellationToken)
    {
        var settings = Settings;
        X509Certificate2Collection? caCertificates = null;
        if (settings.SslMode >= MySqlSslMode.VerifyCA)
        {
            if (settings.SslCa.Length == 0)
            {
                throw new MySqlException($"SslMode={settings.SslMode} needs SslCa (the CA certificate file).");
            }

            caCertificates = [];
            try
            {
                caCertificates.ImportFromPemFile(settings.SslCa);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new MySqlException($"Could not read the CA certificate file '{settings.SslCa}': {ex.Message}", ex);
            }
        }

        var mode = settings.SslMode;
        bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (mode is MySqlSslMode.Preferred or MySqlSslMode.Required)
            {
                return true;
            }

            if (certificate is null)
            {
                return false;
            }

            if (mode == MySqlSslMode.VerifyFull && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return false;
            }

            using var customChain = new X509Chain();
            customChain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            customChain.ChainPolicy.CustomTrustStore.AddRange(caCertificates!);
            customChain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                foreach (var element in chain.ChainElements)
                {
                    customChain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            using var leaf = new X509Certificate2(certificate);
            return customChain.Build(leaf);
        }

        var ssl = new SslStream(_stream!, leaveInnerStreamOpen: false, Validate);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = settings.IsUnixSocket ? "localhost" : settings.Server,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            EnabledSslProtocols = SslProtocols.None,
        };

        // The handshake is bounded by the connect deadline (the watchdog aborts the socket past it).
        Volatile.Write(ref _ioDeadline, deadline);
        try
        {
            if (io == IOBehavior.Synchronous)
            {
                ssl.AuthenticateAsClient(options);
            }
            else
            {
                await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (AuthenticationException ex)
        {
            throw new MySqlConnectionException(MySqlErrorCode.UnableToConnectToHost, $"TLS handshake with {_hostDescription} failed (SslMode={mode}): {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw CreateIOException(ex);
        }
        finally
        {
            Volatile.Write(ref _ioDeadline, 0);
        }

        _stream = ssl;
        IsTls = true;
    }

    private bool IsSecureTransport => IsTls || Settings.IsUnixSocket;

    private byte[] ComputeAuthResponse(string plugin, ReadOnlySpan<byte> nonce) => plugin switch
    {
        Authentication.NativePassword => Authentication.NativePasswordScramble(Settings.Password, nonce.Length > 20 ? nonce[..20] : nonce),
        Authentication.CachingSha2Password => Authentication.CachingSha2Scramble(Settings.Password, nonce.Length > 20 ? nonce[..20] : nonce),
        Authentication.ClearPassword when IsSecureTransport => Authentication.ClearPasswordBytes(Settings.Password),
        Authentication.ClearPassword => throw new MySqlException(MySqlErrorCode.AuthenticationPluginError, null,
            "Authentication method 'mysql_clear_password' sends the password in clear text and needs TLS (SslMode=Required)."),
        _ => throw new MySqlException(MySqlErrorCode.AuthenticationPluginError, null, $"Authentication method '{plugin}' is not supported."),
    };

    private async ValueTask AuthenticateAsync(string plugin, IOBehavior io, CancellationToken cancellationToken)
    {
        var awaitingPublicKey = false;
        while (true)
        {
            var payload = await ReceiveAsync(io, cancellationToken).ConfigureAwait(false);
            if (payload.Length == 0)
            {
                throw ProtocolError("empty packet during authentication");
            }

            switch (payload.Span[0])
            {
                case 0x00:
                    ReadOk(payload.Span);
                    AuthenticationPlugin = plugin;
                    return;
                case 0xFF:
                    throw ErrorPayload.ToException(payload.Span);
                case 0xFE:
                {
                    if (payload.Length == 1)
                    {
                        throw new MySqlException(MySqlErrorCode.AuthenticationPluginError, null, "The server asked for the old (pre-4.1) password authentication, which is not supported.");
                    }

                    var reader = new PayloadReader(payload.Span[1..]);
                    plugin = reader.ReadNullTerminatedString(allowEnd: true);
                    var data = reader.ReadToEnd();
                    if (data.Length > 0 && data[^1] == 0)
                    {
                        data = data[..^1];
                    }

                    _nonce = data.ToArray();
                    awaitingPublicKey = false;
                    var response = ComputeAuthResponse(plugin, _nonce);
                    await SendPayloadAsync(response, io, cancellationToken).ConfigureAwait(false);
                    break;
                }

                case 0x01 when plugin == Authentication.CachingSha2Password:
                {
                    var data = payload[1..];
                    if (awaitingPublicKey)
                    {
                        var pem = Encoding.ASCII.GetString(data.Span);
                        var encrypted = Authentication.RsaEncryptPassword(Settings.Password, _nonce.Length > 20 ? _nonce.AsSpan(0, 20) : _nonce, pem);
                        awaitingPublicKey = false;
                        await SendPayloadAsync(encrypted, io, cancellationToken).ConfigureAwait(false);
                    }
                    else if (data.Length == 1 && data.Span[0] == 3)
                    {
                        // Fast authentication succeeded; the OK follows.
                    }
                    else if (data.Length == 1 && data.Span[0] == 4)
                    {
                        if (IsSecureTransport)
                        {
                            await SendPayloadAsync(Authentication.ClearPasswordBytes(Settings.Password), io, cancellationToken).ConfigureAwait(false);
                        }
                        else if (Settings.AllowPublicKeyRetrieval)
                        {
                            awaitingPublicKey = true;
                            await SendPayloadAsync(new byte[] { 2 }, io, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            throw new MySqlException(MySqlErrorCode.AuthenticationPluginError, null,
                                "Authentication method 'caching_sha2_password' needs full authentication: use TLS (SslMode=Required) or set AllowPublicKeyRetrieval=True.");
                        }
                    }
                    else
                    {
                        throw ProtocolError("unexpected caching_sha2_password data");
                    }

                    break;
                }

                default:
                    throw ProtocolError($"unexpected packet 0x{payload.Span[0]:X2} during authentication");
            }
        }
    }

    private async ValueTask SendPayloadAsync(ReadOnlyMemory<byte> payload, IOBehavior io, CancellationToken cancellationToken)
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
            await WriteAsync(_sendBuffer.AsMemory(0, size), io, cancellationToken).ConfigureAwait(false);
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

    private ValueTask WriteAsync(ReadOnlyMemory<byte> data, IOBehavior io, CancellationToken cancellationToken)
    {
        if (_broken || _stream is null)
        {
            return ValueTask.FromException(CreateIOException(null));
        }

        ArmDeadline();
        if (io == IOBehavior.Synchronous)
        {
            try
            {
                _stream.Write(data.Span);
                return ValueTask.CompletedTask;
            }
            catch (Exception ex) when (IsIOFailure(ex))
            {
                return ValueTask.FromException(CreateIOException(ex));
            }
            finally
            {
                Volatile.Write(ref _ioDeadline, 0);
            }
        }

        ValueTask task;
        try
        {
            task = _stream.WriteAsync(data, cancellationToken);
        }
        catch (Exception ex) when (IsIOFailure(ex))
        {
            Volatile.Write(ref _ioDeadline, 0);
            return ValueTask.FromException(CreateIOException(ex));
        }

        if (task.IsCompletedSuccessfully)
        {
            Volatile.Write(ref _ioDeadline, 0);
            return ValueTask.CompletedTask;
        }

        return AwaitWriteAsync(task);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitWriteAsync(ValueTask task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsIOFailure(ex))
        {
            throw CreateIOException(ex);
        }
        finally
        {
            Volatile.Write(ref _ioDeadline, 0);
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>> ReceiveSlowAsync(IOBehavior io, CancellationToken cancellationToken)
    {
        var joined = 0;
        while (true)
        {
            await FillAsync(4, io, cancellationToken).ConfigureAwait(false);
            var start = _readStart;
            var length = _readBuffer[start] | (_readBuffer[start + 1] << 8) | (_readBuffer[start + 2] << 16);
            var sequence = _readBuffer[start + 3];
            if (sequence != _sequenceId)
            {
                throw SequenceError(sequence);
            }

            await FillAsync(4 + length, io, cancellationToken).ConfigureAwait(false);
            _sequenceId++;
            start = _readStart;
            _readStart = start + 4 + length;
            if (joined == 0 && length < MaxPacketPayload)
            {
                return new ReadOnlyMemory<byte>(_readBuffer, start + 4, length);
            }

            if (joined + length > MaxJoinedPayload)
            {
                throw ProtocolError($"payload larger than {MaxJoinedPayload} bytes");
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

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(int needed, IOBehavior io, CancellationToken cancellationToken)
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
                read = io == IOBehavior.Synchronous
                    ? _stream.Read(_readBuffer, _readEnd, _readBuffer.Length - _readEnd)
                    : await _stream.ReadAsync(_readBuffer.AsMemory(_readEnd), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                MarkBroken("read cancelled");
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
        long deadline;
        if (_cancelReason != CancelReason.None && _hardDeadline != 0)
        {
            deadline = _hardDeadline;
        }
        else if (_commandActive)
        {
            if (_commandTimeoutMilliseconds < 0)
            {
                return; // CommandTimeout = 0: the command may wait for the server as long as it takes.
            }

            deadline = Environment.TickCount64 + Math.Max(1, _commandTimeoutMilliseconds);
        }
        else if (_readTimeoutMilliseconds >= 0)
        {
            deadline = Environment.TickCount64 + Math.Max(1, _readTimeoutMilliseconds);
        }
        else
        {
            return;
        }

        Volatile.Write(ref _ioDeadline, deadline);
    }

    private static bool IsIOFailure(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or AuthenticationException;

    /// <summary>The exception for a failed socket: marks the session broken and says why (timeout, cancel, closed, reset).</summary>
    internal MySqlException CreateIOException(Exception? inner)
    {
        var reason = _abortReason;
        MarkBroken(inner?.Message ?? "end of stream");
        return reason switch
        {
            AbortReason.ConnectTimeout => new MySqlConnectionException(MySqlErrorCode.UnableToConnectToHost,
                $"Connect Timeout expired: {_hostDescription} did not complete the handshake within {Settings.ConnectionTimeout} s.", inner),
            AbortReason.CommandTimeout => new MySqlConnectionException(MySqlErrorCode.CommandTimeoutExpired,
                "The Command Timeout expired before the operation completed, and the server did not stop the query; the connection was closed.", inner),
            AbortReason.ReadTimeout => new MySqlConnectionException(MySqlErrorCode.CommandTimeoutExpired,
                $"The server {_hostDescription} sent nothing for {ReadTimeoutDescription()}; the connection was closed.", inner),
            AbortReason.Cancelled => new MySqlConnectionException(MySqlErrorCode.ServerLost, "The operation was cancelled and the connection was closed.", inner),
            AbortReason.Disposed => new MySqlConnectionException(MySqlErrorCode.ServerLost, "The connection was closed.", inner),
            _ when inner is null => new MySqlEndOfStreamException($"The server {_hostDescription} closed the connection (end of stream).", null),
            _ => new MySqlConnectionException(MySqlErrorCode.ServerLost, $"Lost connection to the server {_hostDescription}: {inner.Message}", inner),
        };
    }

    private string ReadTimeoutDescription() =>
        _readTimeoutMilliseconds < 0 ? "too long" : (_readTimeoutMilliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + " s";

    /// <summary>A protocol violation: marks the session broken.</summary>
    internal MySqlProtocolException ProtocolError(string message)
    {
        MarkBroken("protocol error: " + message);
        return new MySqlProtocolException(message);
    }

    private MySqlProtocolException SequenceError(byte actual) =>
        ProtocolError($"packet sequence number {actual}, expected {_sequenceId}");

    /// <summary>Little-endian helper for callers that build headers by hand.</summary>
    internal static void WriteUInt24(Span<byte> span, int value)
    {
        span[0] = (byte)value;
        span[1] = (byte)(value >> 8);
        span[2] = (byte)(value >> 16);
    }

    internal static uint ReadUInt32(ReadOnlySpan<byte> span) => BinaryPrimitives.ReadUInt32LittleEndian(span);
}
