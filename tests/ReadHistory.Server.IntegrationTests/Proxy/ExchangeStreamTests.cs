using System.Buffers;
using System.Threading.Channels;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Api;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Api.Internal;
using ReadHistory.Server.Hosting;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.Server.Proxy;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// The proxy's end of an Exchange stream (<see cref="ExchangeStream"/>) against a node's (<see cref="ExchangeSession"/>)
/// over real gRPC on loopback, the node's handlers scripted per user: answers matched to their requests, the node's
/// statuses and trailers carried through, a deadline and a caller's cancellation ending the request on both ends, a
/// stopping node answering what is in flight, and a node that goes away failing what is in flight UNAVAILABLE.
/// </summary>
public sealed class ExchangeStreamTests
{
    [Fact]
    public async Task Many_requests_in_flight_on_one_stream_each_get_their_own_answer()
    {
        await using var node = await ScriptedNode.StartAsync();
        using var stream = node.OpenStream();
        var calls = Enumerable.Range(1, 500).Select(u => (User: (ulong)u, Task: stream.SendAsync(ExchangeCall.Check, Request((ulong)u), Deadline(), CancellationToken.None))).ToList();
        foreach (var (user, task) in calls)
        {
            var answer = CheckResponse.Parser.ParseFrom(Bytes(await task.DefaultTimeout()));
            Assert.Equal(ScriptedNode.BitmapOf(user), answer.ReadBitmap.ToByteArray());
            Assert.Equal(AnswerSource.Memory, answer.Source);
        }
    }

    [Fact]
    public async Task A_node_status_comes_back_with_its_retry_hint_and_its_cause()
    {
        await using var node = await ScriptedNode.StartAsync();
        using var stream = node.OpenStream();

        var refused = await Assert.ThrowsAsync<RpcException>(() => stream.SendAsync(ExchangeCall.Check, Request(ScriptedNode.Overloaded), Deadline(), CancellationToken.None).DefaultTimeout());
        var database = await Assert.ThrowsAsync<RpcException>(() => stream.SendAsync(ExchangeCall.MarkRead, MarkRead(ScriptedNode.DatabaseDown), Deadline(), CancellationToken.None).DefaultTimeout());
        var invalid = await Assert.ThrowsAsync<RpcException>(() => stream.SendAsync(ExchangeCall.Filter, Request(ScriptedNode.Invalid), Deadline(), CancellationToken.None).DefaultTimeout());

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("17", refused.Trailers.GetValue(AdmissionControl.RetryAfterTrailer));
        Assert.Equal(StatusCode.Unavailable, database.StatusCode);
        Assert.True(ReplicaFailures.IsDatabaseFailure(database));
        Assert.False(ReplicaFailures.IsReplicaFailure(database));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Equal("content_ids: scripted refusal", invalid.Status.Detail);
    }

    [Fact]
    public async Task A_request_past_its_deadline_fails_deadline_exceeded_and_the_node_stops_its_work()
    {
        await using var node = await ScriptedNode.StartAsync();
        using var stream = node.OpenStream();

        var late = await Assert.ThrowsAsync<RpcException>(() => stream.SendAsync(ExchangeCall.Check, Request(ScriptedNode.Hangs), DateTime.UtcNow.AddMilliseconds(200), CancellationToken.None).DefaultTimeout());

        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
        Assert.Equal(ScriptedNode.Hangs, await node.Cancelled.Reader.ReadAsync().AsTask().DefaultTimeout());
        // The stream is still good for the next request.
        Assert.NotNull(await stream.SendAsync(ExchangeCall.Check, Request(5), Deadline(), CancellationToken.None).DefaultTimeout());
    }

    [Fact]
    public async Task A_caller_that_cancels_ends_its_request_and_the_node_is_told_to_stop()
    {
        await using var node = await ScriptedNode.StartAsync();
        using var stream = node.OpenStream();
        using var caller = new CancellationTokenSource();

        var call = stream.SendAsync(ExchangeCall.Check, Request(ScriptedNode.Hangs), Deadline(), caller.Token);
        await node.Started.Reader.ReadAsync().AsTask().DefaultTimeout();
        await caller.CancelAsync();

        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => call.DefaultTimeout())).StatusCode);
        Assert.Equal(ScriptedNode.Hangs, await node.Cancelled.Reader.ReadAsync().AsTask().DefaultTimeout());
    }

    [Fact]
    public async Task A_stopping_node_answers_the_requests_in_flight_before_it_ends_the_stream()
    {
        await using var node = await ScriptedNode.StartAsync();
        using var stream = node.OpenStream();

        var call = stream.SendAsync(ExchangeCall.Check, Request(ScriptedNode.WaitsForRelease), Deadline(), CancellationToken.None);
        await node.Started.Reader.ReadAsync().AsTask().DefaultTimeout();
        var stopping = node.StopAsync();
        node.Release();

        var answer = CheckResponse.Parser.ParseFrom(Bytes(await call.DefaultTimeout()));
        Assert.Equal(ScriptedNode.BitmapOf(ScriptedNode.WaitsForRelease), answer.ReadBitmap.ToByteArray());
        // Well before the host's 5-minute shutdown timeout: the node ended its stream itself once nothing was in flight.
        await stopping.WaitAsync(TimeSpan.FromSeconds(15));
        var after = await Assert.ThrowsAsync<RpcException>(() => stream.SendAsync(ExchangeCall.Check, Request(5), Deadline(), CancellationToken.None).DefaultTimeout());
        Assert.Equal(StatusCode.Unavailable, after.StatusCode);
    }

    [Fact]
    public async Task A_node_that_goes_away_fails_the_requests_in_flight_unavailable_and_the_break_is_logged()
    {
        var node = await ScriptedNode.StartAsync();
        using var logs = new LogCapture();
        using var exchange = node.OpenExchange(logs.CreateLogger("proxy"));
        var call = exchange.SendAsync(ExchangeCall.Check, Request(ScriptedNode.Hangs), Deadline(), CancellationToken.None);
        await node.Started.Reader.ReadAsync().AsTask().DefaultTimeout();

        await node.DisposeAsync(abort: true);

        var failed = await Assert.ThrowsAsync<RpcException>(() => call.DefaultTimeout());
        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);
        Assert.True(ReplicaFailures.IsReplicaFailure(failed));
        var warning = Assert.Single(logs.AtOrAbove(LogLevel.Warning));
        Assert.Contains("an Exchange stream to scripted broke with 1 requests in flight", warning, StringComparison.Ordinal);
    }

    // Far past every wait of these tests: a request ends early only by what each test does.
    private static DateTime Deadline() => DateTime.UtcNow.AddMinutes(5);

    private static ForwardedRequest Request(ulong user)
    {
        var request = new CheckRequest { UserId = user };
        request.ContentIds.Add([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        return ForwardedRequestReader.ReadCheck(new ReadOnlySequence<byte>(request.ToByteArray()));
    }

    private static ForwardedRequest MarkRead(ulong user)
    {
        var request = new MarkReadRequest { UserId = user };
        request.Items.Add(new ReadItem { ContentId = 1 });
        return ForwardedRequestReader.ReadMarkRead(new ReadOnlySequence<byte>(request.ToByteArray()));
    }

    private static byte[] Bytes(RelayedAnswer answer) => answer.Bytes.ToArray();

    /// <summary>A node whose Check / Filter / MarkRead follow the user: fixed answers, statuses, or a handler that waits.</summary>
    private sealed class ScriptedNode : CacheNode.CacheNodeBase, IAsyncDisposable
    {
        public const ulong Overloaded = 1001;
        public const ulong DatabaseDown = 1002;
        public const ulong Invalid = 1003;
        public const ulong Hangs = 1004;
        public const ulong WaitsForRelease = 1005;

        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private WebApplication? _app;
        private ExchangeHost? _exchanges;
        private GrpcChannelHolder? _channel;

        public Channel<ulong> Started { get; } = Channel.CreateUnbounded<ulong>();

        public Channel<ulong> Cancelled { get; } = Channel.CreateUnbounded<ulong>();

        public static async Task<ScriptedNode> StartAsync()
        {
            var node = new ScriptedNode();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(new IPEndPoint(IPAddress.Loopback, 0), listen => listen.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(node);
            builder.Services.Configure<HostOptions>(static o => o.ShutdownTimeout = TimeSpan.FromMinutes(5));
            var app = builder.Build();
            app.MapGrpcService<ScriptedNode>();
            await app.StartAsync().DefaultTimeout();
            node._app = app;
            node._exchanges = new ExchangeHost(
                new AdmissionControl(new AdmissionLimits(), nameof(AdmissionOptions.Node), TimeSpan.FromMilliseconds(20)),
                new RpcMetrics(null, "scripted"),
                TimeProvider.System,
                NullLogger<ExchangeHost>.Instance,
                app.Lifetime);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            node._channel = new GrpcChannelHolder(ServiceChannels.Create(address));
            return node;
        }

        public static byte[] BitmapOf(ulong user) => [(byte)user, (byte)(user >> 8)];

        public ExchangeStream OpenStream() => new(_channel!.Channel.CreateCallInvoker(), "scripted", TimeProvider.System);

        public NodeExchange OpenExchange(ILogger logger) => new(_channel!.Channel.CreateCallInvoker(), "scripted", 1, TimeProvider.System, logger);

        public void Release() => _release.TrySetResult();

        public Task StopAsync() => _app!.StopAsync();

        public override Task Exchange(IAsyncStreamReader<ExchangeRequests> requestStream, IServerStreamWriter<ExchangeResponses> responseStream, ServerCallContext context) =>
            new ExchangeSession(this, _exchanges!, context).RunAsync(requestStream, responseStream);

        public override Task<CheckResponse> Check(CacheCheckRequest request, ServerCallContext context) => AnswerAsync(request.Request.UserId, context);

        public override async Task<FilterResponse> Filter(CacheCheckRequest request, ServerCallContext context)
        {
            await AnswerAsync(request.Request.UserId, context);
            return new FilterResponse { Source = AnswerSource.Memory };
        }

        public override async Task<MarkReadResponse> MarkRead(CacheMarkReadRequest request, ServerCallContext context)
        {
            await AnswerAsync(request.Request.UserId, context);
            return new MarkReadResponse { Written = 1 };
        }

        public async ValueTask DisposeAsync() => await DisposeAsync(abort: false);

        public async Task DisposeAsync(bool abort)
        {
            _channel?.Dispose();
            _channel = null;
            if (_app is { } app)
            {
                _app = null;
                if (abort)
                {
                    using var now = new CancellationTokenSource();
                    await now.CancelAsync();
                    await app.StopAsync(now.Token).DefaultTimeout();
                }
                else
                {
                    _release.TrySetResult();
                    await app.StopAsync().DefaultTimeout();
                }

                await app.DisposeAsync();
            }
        }

        private async Task<CheckResponse> AnswerAsync(ulong user, ServerCallContext context)
        {
            switch (user)
            {
                case Overloaded:
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, "scripted overload"), new Metadata { { AdmissionControl.RetryAfterTrailer, "17" } });
                case DatabaseDown:
                    throw StorageStatus.From(new ReadHistory.Server.Storage.StorageWriteException("scripted database failure", new IOException("scripted")))!;
                case Invalid:
                    throw new RpcException(new Status(StatusCode.InvalidArgument, "content_ids: scripted refusal"));
                case Hangs:
                    Started.Writer.TryWrite(user);
                    try
                    {
                        await Task.Delay(Timeout.Infinite, context.CancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        Cancelled.Writer.TryWrite(user);
                        throw;
                    }

                    break;
                case WaitsForRelease:
                    Started.Writer.TryWrite(user);
                    await _release.Task;
                    break;
            }

            return new CheckResponse { ReadBitmap = ByteString.CopyFrom(BitmapOf(user)), Source = AnswerSource.Memory };
        }
    }

    /// <summary>Owns a channel (disposed with the node).</summary>
    private sealed class GrpcChannelHolder(Grpc.Net.Client.GrpcChannel channel) : IDisposable
    {
        public Grpc.Net.Client.GrpcChannel Channel { get; } = channel;

        public void Dispose() => Channel.Dispose();
    }
}
