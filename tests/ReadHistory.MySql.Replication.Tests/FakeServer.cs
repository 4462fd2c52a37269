using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ReadHistory.MySql.Replication.Tests;

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
