using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MySqlConnector;
using ReadHistory.MySql.Replication.Client;
using ReadHistory.MySql.Replication.Protocol;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>The replication client's handshake: caching_sha2_password (absent from MariaDB) and hostile servers, against a scripted fake server.</summary>
public sealed class FakeServerTests
{
    // Handshakes that should succeed get more than the fake server's 2 s default: on a loaded 2-core machine the
    // RSA and TLS steps alone have taken longer (hostile-server tests keep the short bound so they end quickly).
    private const string SlowMachine = "Connection Timeout=15;Default Command Timeout=15";

    private const string Password = "s3cret-pässword";

    /// <summary>caching_sha2_password's scramble, from its definition: XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) || nonce)).</summary>
    private static byte[] ExpectedSha2Scramble(string password, byte[] nonce)
    {
        var p1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        var p2 = SHA256.HashData(p1);
        var p3 = SHA256.HashData([.. p2, .. nonce]);
        return p1.Zip(p3, (a, b) => (byte)(a ^ b)).ToArray();
    }

    [Fact]
    public async Task Caching_sha2_fast_path()
    {
        await using var server = new FakeServer(async client =>
        {
            await client.WritePacketAsync(FakeClient.Greeting("caching_sha2_password"));
            var (user, auth, plugin) = FakeClient.ParseHandshakeResponse(await client.ReadPacketAsync());
            Assert.Equal("app", user);
            Assert.Equal("caching_sha2_password", plugin);
            Assert.Equal(ExpectedSha2Scramble(Password, FakeClient.Nonce), auth);
            await client.WritePacketAsync([0x01, 0x03]);
            await client.WritePacketAsync(FakeClient.Ok);
            var ping = await client.ReadPacketAsync();
            Assert.Equal([0x0E], ping);
            client.Sequence = 1;
            await client.WritePacketAsync(FakeClient.Ok);
        });

        var settings = new MySqlConnectionStringBuilder(server.ConnectionString("app", Password, SlowMachine));
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("caching_sha2_password", session.AuthenticationPlugin);
        Assert.False(session.IsMariaDb);
        await session.SendCommandAsync(new byte[] { 0x0E }, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // COM_PING
        var pong = await session.ReceivePayloadAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0x00, pong.Span[0]);
        Assert.Null(server.ScriptFailure);
    }

    [Fact]
    public async Task Caching_sha2_full_path_with_the_servers_RSA_key()
    {
        using var rsa = RSA.Create(2048);
        await using var server = new FakeServer(async client =>
        {
            await client.WritePacketAsync(FakeClient.Greeting("caching_sha2_password"));
            var (_, auth, _) = FakeClient.ParseHandshakeResponse(await client.ReadPacketAsync());
            Assert.Equal(ExpectedSha2Scramble(Password, FakeClient.Nonce), auth);
            await client.WritePacketAsync([0x01, 0x04]); // perform full authentication
            Assert.Equal([0x02], await client.ReadPacketAsync()); // request public key
            await client.WritePacketAsync([0x01, .. Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())]);
            var encrypted = await client.ReadPacketAsync();
            var decrypted = rsa.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);
            var expected = Encoding.UTF8.GetBytes(Password + "\0");
            for (var i = 0; i < decrypted.Length; i++)
            {
                decrypted[i] ^= FakeClient.Nonce[i % FakeClient.Nonce.Length];
            }

            Assert.Equal(expected, decrypted);
            await client.WritePacketAsync(FakeClient.Ok);
        });

        var settings = new MySqlConnectionStringBuilder(server.ConnectionString("app", Password, "AllowPublicKeyRetrieval=true;" + SlowMachine));
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("caching_sha2_password", session.AuthenticationPlugin);
        Assert.Null(server.ScriptFailure);
    }

    [Fact]
    public async Task Caching_sha2_full_path_without_TLS_or_key_retrieval_fails_clearly()
    {
        await using var server = new FakeServer(async client =>
        {
            await client.WritePacketAsync(FakeClient.Greeting("caching_sha2_password"));
            await client.ReadPacketAsync();
            await client.WritePacketAsync([0x01, 0x04]);
        });

        var settings = new MySqlConnectionStringBuilder(server.ConnectionString("app", Password));
        var ex = await Assert.ThrowsAsync<ReplicationException>(() => ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask()).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("AllowPublicKeyRetrieval", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auth_switch_to_caching_sha2_with_a_new_nonce()
    {
        var newNonce = Encoding.ASCII.GetBytes("ZYXWVUTSRQPONMLKJIHG");
        await using var server = new FakeServer(async client =>
        {
            await client.WritePacketAsync(FakeClient.Greeting("mysql_native_password"));
            var (_, auth, plugin) = FakeClient.ParseHandshakeResponse(await client.ReadPacketAsync());
            Assert.Equal("mysql_native_password", plugin);
            Assert.Equal(20, auth.Length);
            await client.WritePacketAsync([0xFE, .. Encoding.ASCII.GetBytes("caching_sha2_password"), 0, .. newNonce, 0]);
            Assert.Equal(ExpectedSha2Scramble(Password, newNonce), await client.ReadPacketAsync());
            await client.WritePacketAsync([0x01, 0x03]);
            await client.WritePacketAsync(FakeClient.Ok);
        });

        var settings = new MySqlConnectionStringBuilder(server.ConnectionString("app", Password, SlowMachine));
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("caching_sha2_password", session.AuthenticationPlugin);
        Assert.Null(server.ScriptFailure);
    }

    [Fact]
    public async Task Native_password_scramble_matches_its_definition()
    {
        await using var server = new FakeServer(async client =>
        {
            await client.WritePacketAsync(FakeClient.Greeting("mysql_native_password"));
            var (_, auth, _) = FakeClient.ParseHandshakeResponse(await client.ReadPacketAsync());
#pragma warning disable CA5350 // mysql_native_password is SHA-1 by definition.
            var h1 = SHA1.HashData(Encoding.UTF8.GetBytes(Password));
            var h2 = SHA1.HashData(h1);
            var h3 = SHA1.HashData([.. FakeClient.Nonce, .. h2]);
#pragma warning restore CA5350
            Assert.Equal(h1.Zip(h3, (a, b) => (byte)(a ^ b)).ToArray(), auth);
            await client.WritePacketAsync(FakeClient.Ok);
        });

        var settings = new MySqlConnectionStringBuilder(server.ConnectionString("app", Password, SlowMachine));
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(server.ScriptFailure);
    }

    public static TheoryData<string> HostileScripts() =>
    [
        "close-immediately", "garbage-greeting", "truncated-greeting-then-stall", "wrong-protocol-version", "silent-server",
        "bad-sequence-id", "huge-length-then-close", "auth-garbage", "result-garbage-column-count", "truncated-column-definition",
        "row-overruns-payload", "row-stall-midway", "random-1", "random-2", "random-3", "random-4", "random-after-handshake-1",
        "random-after-handshake-2", "random-after-handshake-3", "eof-in-middle-of-rows",
    ];

    [Theory]
    [MemberData(nameof(HostileScripts))]
    public async Task Hostile_servers_cause_errors_never_hangs(string name)
    {
        await using var server = new FakeServer(client => Script(name, client));
        var clock = Stopwatch.StartNew();
        var failure = await Record.ExceptionAsync(async () =>
        {
            // What the replication client does first: connect, then SHOW MASTER STATUS to resolve its start.
            var options = new BinlogClientOptions { ConnectionString = server.ConnectionString(), Start = BinlogStart.Current };
            await using var stream = await ReplicationStream.OpenAsync(options, options.Start, CancellationToken.None);
        }).WaitAsync(TimeSpan.FromSeconds(30));

        // Not a latency bound: the 2 s connect and command timeouts end every script; 20 s leaves a loaded machine room.
        Assert.NotNull(failure);
        Assert.True(failure is ReplicationException, $"{name}: {failure}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{name} took {clock.Elapsed}");
    }

    private static async Task Script(string name, FakeClient client)
    {
        var random = new Random(name.Sum(c => c));
        byte[] RandomBytes(int count)
        {
            var bytes = new byte[count];
            random.NextBytes(bytes);
            return bytes;
        }

        byte[] ColumnDefinition(string column) =>
            [3, .. "def"u8, 1, (byte)'d', 1, (byte)'t', 1, (byte)'t', (byte)column.Length, .. Encoding.ASCII.GetBytes(column), (byte)column.Length, .. Encoding.ASCII.GetBytes(column),
             0x0C, 45, 0, 255, 0, 0, 0, 253, 0, 0, 0, 0, 0];

        async Task HandshakeAndQuery()
        {
            await client.HandshakeAsync();
            await client.ReadPacketAsync();
            client.Sequence = 1;
        }

        switch (name)
        {
            case "close-immediately":
                client.Stream.Close();
                break;
            case "garbage-greeting":
                await client.WritePacketAsync(RandomBytes(60));
                break;
            case "truncated-greeting-then-stall":
                await client.WriteRawAsync([100, 0, 0, 0, 10, (byte)'8', (byte)'.']);
                break;
            case "wrong-protocol-version":
                await client.WritePacketAsync([9, .. FakeClient.Greeting("mysql_native_password")[1..]]);
                break;
            case "silent-server":
                break;
            case "bad-sequence-id":
                client.Sequence = 5;
                await client.WritePacketAsync(FakeClient.Greeting("mysql_native_password"));
                break;
            case "huge-length-then-close":
                await client.WriteRawAsync([0xFF, 0xFF, 0xFF, 0, 1, 2, 3]);
                client.Stream.Close();
                break;
            case "auth-garbage":
                await client.WritePacketAsync(FakeClient.Greeting("mysql_native_password"));
                await client.ReadPacketAsync();
                await client.WritePacketAsync([0x7A, .. RandomBytes(30)]);
                break;
            case "result-garbage-column-count":
                await HandshakeAndQuery();
                await client.WritePacketAsync([0xFC, 0xFF, 0xFF, 9, 9]);
                break;
            case "truncated-column-definition":
                await HandshakeAndQuery();
                await client.WritePacketAsync([2]);
                await client.WritePacketAsync(ColumnDefinition("a")[..12]);
                break;
            case "row-overruns-payload":
                await HandshakeAndQuery();
                await client.WritePacketAsync([2]);
                await client.WritePacketAsync(ColumnDefinition("a"));
                await client.WritePacketAsync(ColumnDefinition("b"));
                await client.WritePacketAsync([1, (byte)'x', 200, (byte)'y']);
                break;
            case "row-stall-midway":
                await HandshakeAndQuery();
                await client.WritePacketAsync([2]);
                await client.WritePacketAsync(ColumnDefinition("a"));
                await client.WritePacketAsync(ColumnDefinition("b"));
                await client.WritePacketAsync([1, (byte)'x', 1, (byte)'y']);
                await client.WriteRawAsync([50, 0, 0, client.Sequence, 1, 2]);
                break;
            case "eof-in-middle-of-rows":
                await HandshakeAndQuery();
                await client.WritePacketAsync([2]);
                await client.WritePacketAsync(ColumnDefinition("a"));
                await client.WritePacketAsync(ColumnDefinition("b"));
                await client.WritePacketAsync([1, (byte)'x', 1, (byte)'y']);
                client.Stream.Close();
                break;
            case var _ when name.StartsWith("random-after-handshake", StringComparison.Ordinal):
                await HandshakeAndQuery();
                for (var i = 0; i < 5; i++)
                {
                    await client.WritePacketAsync(RandomBytes(random.Next(1, 80)));
                }

                await client.WriteRawAsync(RandomBytes(200));
                break;
            default:
                await client.WriteRawAsync(RandomBytes(random.Next(1, 500)));
                break;
        }
    }
}
