using System.Net.Sockets;
using System.Text;

namespace ReadHistory.MySql.Replication.Tests;

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
