using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>
/// A short slice of the fuzzer's rule, over real gRPC against a host of role all: a request that parses as its message
/// never gets INTERNAL or UNKNOWN (whatever its values), and one that does not parse always gets INTERNAL.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ValidRequestStatusTests(MariaDbFixture mariaDb)
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(static b => b, static b => b);

    [Fact]
    public async Task A_validly_encoded_request_never_gets_internal_or_unknown_and_a_malformed_one_always_gets_internal()
    {
        await using var host = await TestHost.StartReadyAsync(TestHost.Settings("all", mariaDb.Server.ConnectionString(), "valid" + Guid.NewGuid().ToString("N")[..8]));
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        var invoker = channel.CreateCallInvoker();
        var random = new RandomRequests(seed: 2020, maxIds: 12_000);
        var wrong = new List<string>();
        var malformed = 0;
        for (var n = 0; n < 200; n++)
        {
            var user = (ulong)(n % 13) * 977;
            foreach (var (name, bytes, parses) in new[]
            {
                ("Check", random.Check(user), (Func<byte[], bool>)Parses(CheckRequest.Parser)),
                ("Filter", random.Check(user), Parses(CheckRequest.Parser)),
                ("MarkRead", random.MarkRead(user), Parses(MarkReadRequest.Parser)),
            })
            {
                var valid = parses(bytes);
                malformed += valid ? 0 : 1;
                var code = await CallAsync(invoker, name, bytes);
                if (valid ? code is StatusCode.Internal or StatusCode.Unknown : code != StatusCode.Internal)
                {
                    wrong.Add($"{name} {(valid ? "valid" : "malformed")} -> {code}: {Convert.ToHexString(bytes)[..Math.Min(200, bytes.Length * 2)]}");
                }
            }
        }

        Assert.Empty(wrong);
        Assert.True(malformed > 0, "the slice sent no malformed request");
    }

    private static Func<byte[], bool> Parses<T>(MessageParser<T> parser)
        where T : IMessage<T> => bytes =>
    {
        try
        {
            parser.ParseFrom(bytes);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    };

    private static async Task<StatusCode> CallAsync(CallInvoker invoker, string name, byte[] request)
    {
        var method = new Method<byte[], byte[]>(MethodType.Unary, "readhistory.v1.ReadHistory", name, Raw, Raw);
        try
        {
            await invoker.AsyncUnaryCall(method, null, TestHost.Deadline(), request).ResponseAsync.DefaultTimeout();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
