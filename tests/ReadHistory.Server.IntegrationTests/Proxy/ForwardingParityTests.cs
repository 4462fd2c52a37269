using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// The forwarding proxy (ReadHistory:Proxy:ForwardBytes true), over Exchange streams (StreamsPerNode 4) and over unary
/// calls (0), against the decoding one (ForwardBytes false), all in front of the same <see cref="FakeCacheNode"/>s
/// (2 slots × 2 replicas): the same random request bytes get the same status, message and answer bytes from each,
/// through every error status a node can return, failover and passthrough; and all count the calls alike. BatchCheck
/// too: entries of both slots, refused by the proxy or failed by a node one by one or a slot at a time. Also: a
/// starting proxy has opened its Exchange streams (its warm-up) before it takes a call.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ForwardingParityTests(MariaDbFixture mariaDb)
{
    private const int MaxIds = 600;
    private const int MaxBatchUsers = 8;
    private const int MaxBatchIds = 2400;
    private const int FeedMaxIds = 300;
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(static b => b, static b => b);

    [Fact]
    public async Task Random_requests_get_the_same_status_message_and_answer_bytes_forwarded_as_decoded()
    {
        var nodes = await StartNodesAsync();
        try
        {
            await using var multiplexing = await StartProxyAsync(nodes, forward: true, streams: 4);
            await using var forwarding = await StartProxyAsync(nodes, forward: true, streams: 0);
            await using var decoding = await StartProxyAsync(nodes, forward: false, streams: 0);
            using var multiplexingChannel = GrpcChannel.ForAddress(multiplexing.Grpc);
            using var forwardingChannel = GrpcChannel.ForAddress(forwarding.Grpc);
            using var decodingChannel = GrpcChannel.ForAddress(decoding.Grpc);
            var random = new RandomRequests(seed: 4018, MaxIds);
            var outcomes = new HashSet<string>(StringComparer.Ordinal);
            for (var n = 0; n < 240; n++)
            {
                // Every rule of the fakes, on users of both slots.
                var user = (ulong)(n % 40) + (40UL * (ulong)(n / 40 % 7));
                foreach (var (name, bytes) in new[] { ("Check", random.Check(user)), ("Filter", random.Check(user)), ("MarkRead", random.MarkRead(user)) })
                {
                    if (name == "Filter" && user % 40 == FakeCacheNode.WrongBitmap)
                    {
                        // The decoding proxy serves Filter with the node's Check (and refuses its bad bitmap), the
                        // forwarding one with the node's Filter, which has no bitmap to get wrong.
                        continue;
                    }

                    var method = new Method<byte[], byte[]>(MethodType.Unary, "readhistory.v1.ReadHistory", name, Raw, Raw);
                    var expected = await CallAsync(decodingChannel, method, bytes);
                    var actual = await CallAsync(forwardingChannel, method, bytes);
                    Assert.True(expected == actual, $"{name}: decoded {expected[..Math.Min(300, expected.Length)]}, forwarded {actual[..Math.Min(300, actual.Length)]}, of {Convert.ToHexString(bytes)}");
                    var multiplexed = await CallAsync(multiplexingChannel, method, bytes);
                    Assert.True(expected == multiplexed, $"{name}: decoded {expected[..Math.Min(300, expected.Length)]}, multiplexed {multiplexed[..Math.Min(300, multiplexed.Length)]}, of {Convert.ToHexString(bytes)}");
                    outcomes.Add(expected.Split(' ')[0]);
                }
            }

            // The run went through OK, the proxy's own refusals and the node's statuses: those that move on to another
            // replica (CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, ABORTED, UNIMPLEMENTED) end as the pool's UNAVAILABLE.
            Assert.True(outcomes.IsSupersetOf(["OK", "InvalidArgument", "Internal", "NotFound", "Unavailable", "AlreadyExists", "FailedPrecondition", "PermissionDenied", "ResourceExhausted", "OutOfRange", "Unauthenticated", "DataLoss"]), string.Join(",", outcomes));
            Assert.True(nodes.Sum(static n => n.FilterCalls) > 0, "the forwarding proxy sent no Filter to a node");
            Assert.All(nodes, static n => Assert.True(n.ExchangeStreams > 0, "the multiplexing proxy opened no Exchange stream to a node"));
            Assert.Equal(await RpcCountsAsync(decoding), await RpcCountsAsync(forwarding));
            Assert.Equal(await RpcCountsAsync(decoding), await RpcCountsAsync(multiplexing));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    public async Task Random_batch_checks_get_the_same_status_message_and_answer_bytes_forwarded_as_decoded()
    {
        var nodes = await StartNodesAsync();
        try
        {
            await using var forwarding = await StartProxyAsync(nodes, forward: true, streams: 4);
            await using var decoding = await StartProxyAsync(nodes, forward: false, streams: 0);
            using var forwardingChannel = GrpcChannel.ForAddress(forwarding.Grpc);
            using var decodingChannel = GrpcChannel.ForAddress(decoding.Grpc);
            var method = new Method<byte[], byte[]>(MethodType.Unary, "readhistory.v1.ReadHistory", "BatchCheck", Raw, Raw);
            var random = new RandomRequests(seed: 1804, MaxIds);
            var users = new Random(1805);
            var outcomes = new HashSet<string>(StringComparer.Ordinal);
            var entryOutcomes = new HashSet<StatusCode>();
            for (var n = 0; n < 300; n++)
            {
                // Up to one entry past MaxBatchUsers, users of every rule of the fakes on both slots.
                var batch = Enumerable.Range(0, users.Next(MaxBatchUsers + 2)).Select(_ => (ulong)users.Next(40) + (40UL * (ulong)users.Next(7))).ToList();
                var bytes = random.BatchCheck(batch);

                var expected = await CallAsync(decodingChannel, method, bytes);
                var actual = await CallAsync(forwardingChannel, method, bytes);

                Assert.True(expected == actual, $"decoded {expected[..Math.Min(600, expected.Length)]}, forwarded {actual[..Math.Min(600, actual.Length)]}, of {Convert.ToHexString(bytes)}");
                outcomes.Add(expected.Split(' ')[0]);
                if (expected.StartsWith("OK ", StringComparison.Ordinal))
                {
                    foreach (var result in BatchCheckResponse.Parser.ParseFrom(Convert.FromHexString(expected[3..])).Results)
                    {
                        entryOutcomes.Add((StatusCode)result.StatusCode);
                    }
                }
            }

            // Calls answered, refused whole (too many entries or ids, a bad tenant) and unparseable; entries answered,
            // refused by the proxy (validation, no pool, the tenant's id limit), failed by the node alone or with the
            // rest of their slot (a node's status, or the pool's UNAVAILABLE once every replica failed), and cut short.
            Assert.True(outcomes.IsSupersetOf(["OK", "InvalidArgument", "Internal"]), string.Join(",", outcomes));
            Assert.True(entryOutcomes.IsSupersetOf([StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.Internal, StatusCode.Unavailable, StatusCode.AlreadyExists, StatusCode.PermissionDenied, StatusCode.DataLoss]), string.Join(",", entryOutcomes));
            Assert.True(nodes.Sum(static n => n.BatchCalls) > 0, "no BatchCheck reached a node");
            Assert.Equal(await RpcCountsAsync(decoding), await RpcCountsAsync(forwarding));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    public async Task A_started_proxy_has_opened_every_Exchange_stream_before_its_first_call()
    {
        var nodes = await StartNodesAsync();
        try
        {
            await using var proxy = await StartProxyAsync(nodes, forward: true, streams: 3);

            Assert.All(nodes, static n => Assert.Equal(3, n.ExchangeStreams));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    // Four fakes: 2 slots × 2 replicas.
    private static async Task<List<FakeCacheNode>> StartNodesAsync()
    {
        var nodes = new List<FakeCacheNode>();
        try
        {
            for (var n = 0; n < 4; n++)
            {
                nodes.Add(await FakeCacheNode.StartAsync(replica: n % 2));
            }

            return nodes;
        }
        catch
        {
            await StopAsync(nodes);
            throw;
        }
    }

    private static async Task StopAsync(List<FakeCacheNode> nodes)
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }

    private async Task<TestHost> StartProxyAsync(List<FakeCacheNode> nodes, bool forward, int streams)
    {
        var settings = TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), "fwd" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:Proxy:HealthCheckInterval"] = "00:00:00.100";
        settings["ReadHistory:Proxy:HealthCheckTimeout"] = "00:00:00.500";
        // Breakers never open: both proxies must walk the same replicas whatever their timing.
        settings["ReadHistory:Proxy:MinimumThroughput"] = "1000000";
        settings["ReadHistory:Proxy:ForwardBytes"] = forward ? "true" : "false";
        settings["ReadHistory:Proxy:StreamsPerNode"] = streams.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["ReadHistory:Limits:MaxIdsPerCall"] = MaxIds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["ReadHistory:Limits:MaxBatchUsers"] = MaxBatchUsers.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["ReadHistory:Limits:MaxBatchIds"] = MaxBatchIds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["ReadHistory:Proxy:Tenants:feed:MaxIdsPerCall"] = FeedMaxIds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Tenants:0"] = string.Empty;
        settings["ReadHistory:Topology:Pools:0:Tenants:1"] = "feed";
        for (var n = 0; n < nodes.Count; n++)
        {
            settings[$"ReadHistory:Topology:Pools:0:Slots:{n / 2}:Replicas:{n % 2}"] = nodes[n].Address.ToString().TrimEnd('/');
        }

        var proxy = await TestHost.StartReadyAsync(settings);
        await ProxyCluster.WaitAllHealthyAsync(proxy, nodes.Count);
        return proxy;
    }

    // "CODE detail hex-of-answer"
    private static async Task<string> CallAsync(GrpcChannel channel, Method<byte[], byte[]> method, byte[] request)
    {
        try
        {
            var answer = await channel.CreateCallInvoker().AsyncUnaryCall(method, null, TestHost.Deadline(), request).ResponseAsync.DefaultTimeout();
            return $"{StatusCode.OK} {Convert.ToHexString(answer)}";
        }
        catch (RpcException e)
        {
            return $"{e.StatusCode} {e.Status.Detail}";
        }
    }

    private static async Task<string> RpcCountsAsync(TestHost host)
    {
        using var http = new HttpClient();
        var lines = (await http.GetStringAsync(new Uri(host.Http, "/metrics")).DefaultTimeout())
            .Split('\n')
            .Where(static l => l.StartsWith("readhistory_rpc_requests_total{", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }
}
