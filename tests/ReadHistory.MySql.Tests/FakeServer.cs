using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ReadHistory.MySql.Tests;

/// <summary>A scripted server side of the MySQL protocol on 127.0.0.1 (port 0), for handshake and hostile-input tests.</summary>
internal sealed class FakeServer : IAsyncDisposable
{
    public const ProtocolFlags DefaultCapabilities = ProtocolFlags.LongPassword | ProtocolFlags.Protocol41 | ProtocolFlags.SecureConnection |
        ProtocolFlags.PluginAuth | ProtocolFlags.PluginAuthLenenc | ProtocolFlags.DeprecateEof | ProtocolFlags.Transactions |
        ProtocolFlags.MultiStatements | ProtocolFlags.MultiResults;

    private readonly TcpListener _listener;
    private readonly Task _serving;
    private readonly CancellationTokenSource _stop = new();

    public FakeServer(Func<FakeClient, Task> script)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _serving = Task.Run(async () =>
        {
            try
            {
                using var tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
                await using var client = new FakeClient(tcp.GetStream(), _stop.Token);
                await script(client);
                // Keep the socket open (a stalled server) until the test ends.
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // The client went away or the test ended.
            }
            catch (Exception ex)
            {
                ScriptFailure = ex;
            }
        });
    }

    [Flags]
    public enum ProtocolFlags : uint
    {
        LongPassword = 1,
        ConnectWithDb = 8,
        Protocol41 = 0x200,
        Ssl = 0x800,
        Transactions = 0x2000,
        SecureConnection = 0x8000,
        MultiStatements = 0x1_0000,
        MultiResults = 0x2_0000,
        PluginAuth = 0x8_0000,
        PluginAuthLenenc = 0x20_0000,
        DeprecateEof = 0x100_0000,
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Exception? ScriptFailure { get; private set; }

    public string ConnectionString(string user = "u", string password = "secret", string? extra = null) =>
        $"Server=127.0.0.1;Port={Port};User ID={user};Password={password};SslMode=None;Pooling=false;Connection Timeout=2;Default Command Timeout=2" +
        (extra is null ? string.Empty : ";" + extra);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _stop.Dispose();
    }
}

/// <summary>The accepted connection: packet-level reads and writes.</summary>
internal sealed class FakeClient(NetworkStream stream, CancellationToken cancellationToken) : IAsyncDisposable
{
    public static readonly byte[] Nonce = Encoding.ASCII.GetBytes("abcdefghij0123456789");

    public NetworkStream Stream => stream;

    public byte Sequence { get; set; }

    public static byte[] Greeting(string plugin, FakeServer.ProtocolFlags capabilities = FakeServer.DefaultCapabilities, string version = "8.0.36-fake")
    {
        var packet = new List<byte> { 10 };
        packet.AddRange(Encoding.ASCII.GetBytes(version));
        packet.Add(0);
        packet.AddRange(BitConverter.GetBytes(1234u));
        packet.AddRange(Nonce[..8]);
        packet.Add(0);
        packet.AddRange(BitConverter.GetBytes((ushort)((uint)capabilities & 0xFFFF)));
        packet.Add(45);
        packet.AddRange(BitConverter.GetBytes((ushort)2));
        packet.AddRange(BitConverter.GetBytes((ushort)((uint)capabilities >> 16)));
        packet.Add(21);
        packet.AddRange(new byte[10]);
        packet.AddRange(Nonce[8..]);
        packet.Add(0);
        packet.AddRange(Encoding.ASCII.GetBytes(plugin));
        packet.Add(0);
        return [.. packet];
    }

    public static readonly byte[] Ok = [0, 0, 0, 2, 0, 0, 0];

    public async Task WritePacketAsync(byte[] payload)
    {
        var header = new byte[] { (byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), Sequence++ };
        await stream.WriteAsync(header.Concat(payload).ToArray(), cancellationToken);
    }

    public Task WriteRawAsync(byte[] bytes) => stream.WriteAsync(bytes, cancellationToken).AsTask();

    public async Task<byte[]> ReadPacketAsync()
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, cancellationToken);
        var length = header[0] | (header[1] << 8) | (header[2] << 16);
        Sequence = (byte)(header[3] + 1);
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return payload;
    }

    /// <summary>Greets with mysql_native_password, reads the response, answers OK.</summary>
    public async Task HandshakeAsync()
    {
        Sequence = 0;
        await WritePacketAsync(Greeting("mysql_native_password"));
        await ReadPacketAsync();
        await WritePacketAsync(Ok);
    }

    /// <summary>The parts of a HandshakeResponse41 the tests check.</summary>
    public static (string User, byte[] AuthResponse, string Plugin) ParseHandshakeResponse(byte[] payload)
    {
        var capabilities = BitConverter.ToUInt32(payload, 0);
        var offset = 32;
        var userEnd = Array.IndexOf(payload, (byte)0, offset);
        var user = Encoding.UTF8.GetString(payload, offset, userEnd - offset);
        offset = userEnd + 1;
        int authLength = payload[offset++];
        var auth = payload[offset..(offset + authLength)];
        offset += authLength;
        if ((capabilities & (uint)FakeServer.ProtocolFlags.ConnectWithDb) != 0)
        {
            offset = Array.IndexOf(payload, (byte)0, offset) + 1;
        }

        var pluginEnd = Array.IndexOf(payload, (byte)0, offset);
        var plugin = Encoding.ASCII.GetString(payload, offset, pluginEnd - offset);
        return (user, auth, plugin);
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
