using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MySqlConnector;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>Connecting: socket, handshake v10, TLS, authentication.</summary>
internal sealed partial class ReplicationSession
{
    /// <summary>CR_AUTH_PLUGIN_ERR: authentication could not be completed on the client.</summary>
    private const int AuthenticationPluginError = 2061;

    private const ProtocolCapabilities RequestedCapabilities =
        ProtocolCapabilities.LongPassword | ProtocolCapabilities.LongFlag | ProtocolCapabilities.Protocol41 |
        ProtocolCapabilities.Transactions | ProtocolCapabilities.SecureConnection | ProtocolCapabilities.MultiResults |
        ProtocolCapabilities.PluginAuth | ProtocolCapabilities.PluginAuthLengthEncodedClientData |
        ProtocolCapabilities.DeprecateEof | ProtocolCapabilities.IgnoreSigpipe;

    private bool IsSecureTransport => IsTls || IsUnixSocket;

    private async ValueTask OpenAsync(CancellationToken cancellationToken)
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
            _socket = await ConnectSocketAsync(connectCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ReplicationConnectionException(ReplicationConnectionException.CannotConnect,
                $"Connect Timeout expired: could not connect to {_hostDescription} within {settings.ConnectionTimeout} s.");
        }
        catch (SocketException ex)
        {
            throw new ReplicationConnectionException(ReplicationConnectionException.CannotConnect,
                $"Unable to connect to {_hostDescription}: {ex.Message}", ex);
        }

        _stream = new NetworkStream(_socket, ownsSocket: false);

        // From here every network wait is bounded by the connect deadline.
        _readTimeoutMilliseconds = connectTimeout;
        using var registration = cancellationToken.CanBeCanceled ? cancellationToken.Register(static state => ((ReplicationSession)state!).Abort(AbortReason.Cancelled), this) : default;
        try
        {
            await HandshakeAsync(deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (ReplicationException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        _connecting = false;
        _readTimeoutMilliseconds = settings.DefaultCommandTimeout == 0 ? -1 : checked((int)settings.DefaultCommandTimeout * 1000);
        Database = settings.Database;
    }

    private async ValueTask<Socket> ConnectSocketAsync(CancellationToken cancellationToken)
    {
        if (IsUnixSocket)
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await unix.ConnectAsync(new UnixDomainSocketEndPoint(Settings.Server), cancellationToken).ConfigureAwait(false);
                return unix;
            }
            catch
            {
                unix.Dispose();
                throw;
            }
        }

        var host = Settings.Server.Length == 0 ? "localhost" : Settings.Server;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, (int)Settings.Port), cancellationToken).ConfigureAwait(false);
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

    private async ValueTask HandshakeAsync(long deadline, CancellationToken cancellationToken)
    {
        _sequenceId = 0;
        var greeting = await ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        var pluginName = ParseHandshake(greeting.Span);

        var settings = Settings;
        var useTls = (settings.SslMode != MySqlSslMode.None && !IsUnixSocket) || settings.SslMode >= MySqlSslMode.Required;
        if (useTls && (ServerCapabilities & ProtocolCapabilities.Ssl) == 0)
        {
            if (settings.SslMode >= MySqlSslMode.Required)
            {
                throw new ReplicationConnectionException(ReplicationConnectionException.CannotConnect, $"SslMode={settings.SslMode} but the server {_hostDescription} does not offer TLS.");
            }

            useTls = false;
        }

        var capabilities = RequestedCapabilities & ServerCapabilities;
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
            throw ProtocolError("the server supports neither CLIENT_PROTOCOL_41 nor CLIENT_SECURE_CONNECTION");
        }

        Capabilities = capabilities;
        if (useTls)
        {
            var sslRequest = new PacketWriter();
            WriteHandshakePrefix(sslRequest, capabilities);
            await SendPayloadAsync(sslRequest.Payload, cancellationToken).ConfigureAwait(false);
            await StartTlsAsync(deadline, cancellationToken).ConfigureAwait(false);
        }

        var plugin = pluginName is Authentication.CachingSha2Password ? Authentication.CachingSha2Password : Authentication.NativePassword;
        var authResponse = ComputeAuthResponse(plugin, _nonce);

        var response = new PacketWriter();
        WriteHandshakePrefix(response, capabilities);
        response.WriteNullTerminatedString(settings.UserID);
        if ((capabilities & ProtocolCapabilities.PluginAuthLengthEncodedClientData) != 0)
        {
            response.WriteLengthEncodedBytes(authResponse);
        }
        else
        {
            response.Write((byte)authResponse.Length);
            response.Write(authResponse);
        }

        if ((capabilities & ProtocolCapabilities.ConnectWithDatabase) != 0)
        {
            response.WriteNullTerminatedString(settings.Database);
        }

        if ((capabilities & ProtocolCapabilities.PluginAuth) != 0)
        {
            response.WriteNullTerminatedString(plugin);
        }

        await SendPayloadAsync(response.Payload, cancellationToken).ConfigureAwait(false);
        await AuthenticateAsync(plugin, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Handshake v10 (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html):
    /// <code>
    /// | 10 | version NUL | thread id 4 | nonce 8 | 0 | caps low 2 | charset 1 | status 2 | caps high 2 |
    /// | auth data len 1 | reserved 10 | nonce part 2 (max(13, len - 8)) | plugin name NUL |
    /// </code>
    /// Returns the server's authentication plugin (null when it names none).
    /// </summary>
    private string? ParseHandshake(ReadOnlySpan<byte> payload)
    {
        if (ErrorPacket.IsError(payload))
        {
            // E.g. too many connections or host blocked: the server refuses before the handshake.
            throw ErrorPacket.ToException(payload);
        }

        var reader = new PacketReader(payload);
        var protocolVersion = reader.ReadByte();
        if (protocolVersion != 10)
        {
            throw ProtocolError($"unsupported handshake protocol version {protocolVersion} (expected 10)");
        }

        var version = reader.ReadNullTerminatedString();
        IsMariaDb = version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        if (IsMariaDb && version.StartsWith("5.5.5-", StringComparison.Ordinal))
        {
            version = version[6..];
        }

        ServerVersion = version;
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
        return pluginName;
    }

    private static void WriteHandshakePrefix(PacketWriter writer, ProtocolCapabilities capabilities)
    {
        writer.WriteUInt32((uint)capabilities);
        writer.WriteUInt32(MaxPacketPayload);
        writer.Write(45); // utf8mb4_general_ci
        writer.Write(new byte[23]);
    }

    private async ValueTask StartTlsAsync(long deadline, CancellationToken cancellationToken)
    {
        var settings = Settings;
        X509Certificate2Collection? caCertificates = null;
        if (settings.SslMode >= MySqlSslMode.VerifyCA)
        {
            if (string.IsNullOrEmpty(settings.SslCa))
            {
                throw new ReplicationConnectionException(ReplicationConnectionException.CannotConnect, $"SslMode={settings.SslMode} needs SslCa (the CA certificate file).");
            }

            caCertificates = [];
            try
            {
                caCertificates.ImportFromPemFile(settings.SslCa);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new ReplicationConnectionException(ReplicationConnectionException.CannotConnect, $"Could not read the CA certificate file '{settings.SslCa}': {ex.Message}", ex);
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
            TargetHost = IsUnixSocket ? "localhost" : settings.Server,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            EnabledSslProtocols = SslProtocols.None,
        };

        // The handshake is bounded by the connect deadline (the watchdog aborts the socket past it).
        Volatile.Write(ref _ioDeadline, deadline);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (AuthenticationException ex)
        {
            throw new ReplicationConnectionException(ReplicationConnectionException.CannotConnect, $"TLS handshake with {_hostDescription} failed (SslMode={mode}): {ex.Message}", ex);
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

    private byte[] ComputeAuthResponse(string plugin, ReadOnlySpan<byte> nonce) => plugin switch
    {
        Authentication.NativePassword => Authentication.NativePasswordScramble(Settings.Password, nonce.Length > 20 ? nonce[..20] : nonce),
        Authentication.CachingSha2Password => Authentication.CachingSha2Scramble(Settings.Password, nonce.Length > 20 ? nonce[..20] : nonce),
        Authentication.ClearPassword when IsSecureTransport => Authentication.ClearPasswordBytes(Settings.Password),
        Authentication.ClearPassword => throw new ReplicationException(AuthenticationPluginError, null,
            "Authentication method 'mysql_clear_password' sends the password in clear text and needs TLS (SslMode=Required)."),
        _ => throw new ReplicationException(AuthenticationPluginError, null, $"Authentication method '{plugin}' is not supported."),
    };

    private async ValueTask AuthenticateAsync(string plugin, CancellationToken cancellationToken)
    {
        var awaitingPublicKey = false;
        while (true)
        {
            var payload = await ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
            if (payload.Length == 0)
            {
                throw ProtocolError("empty packet during authentication");
            }

            switch (payload.Span[0])
            {
                case 0x00:
                    AuthenticationPlugin = plugin;
                    return;
                case 0xFF:
                    throw ErrorPacket.ToException(payload.Span);
                case 0xFE:
                {
                    if (payload.Length == 1)
                    {
                        throw new ReplicationException(AuthenticationPluginError, null, "The server asked for the old (pre-4.1) password authentication, which is not supported.");
                    }

                    var reader = new PacketReader(payload.Span[1..]);
                    plugin = reader.ReadNullTerminatedString(allowEnd: true);
                    var data = reader.ReadToEnd();
                    if (data.Length > 0 && data[^1] == 0)
                    {
                        data = data[..^1];
                    }

                    _nonce = data.ToArray();
                    awaitingPublicKey = false;
                    var response = ComputeAuthResponse(plugin, _nonce);
                    await SendPayloadAsync(response, cancellationToken).ConfigureAwait(false);
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
                        await SendPayloadAsync(encrypted, cancellationToken).ConfigureAwait(false);
                    }
                    else if (data.Length == 1 && data.Span[0] == 3)
                    {
                        // Fast authentication succeeded; the OK follows.
                    }
                    else if (data.Length == 1 && data.Span[0] == 4)
                    {
                        if (IsSecureTransport)
                        {
                            await SendPayloadAsync(Authentication.ClearPasswordBytes(Settings.Password), cancellationToken).ConfigureAwait(false);
                        }
                        else if (Settings.AllowPublicKeyRetrieval)
                        {
                            awaitingPublicKey = true;
                            await SendPayloadAsync(new byte[] { 2 }, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            throw new ReplicationException(AuthenticationPluginError, null,
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
}
