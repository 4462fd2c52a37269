using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Numerics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Api.Internal;
using ReadHistory.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.TestSupport;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// A CacheNode whose answers follow from the request alone, so two proxies in front of the same fakes must answer the
/// same bytes: by <c>user % 40</c> it fails with status 1 .. 16 (every gRPC error), fails on replica 0 only (failover),
/// fails unless in passthrough, or answers a bitmap of the wrong length (BatchCheck: see <see cref="BatchCheck"/>);
/// otherwise bit i is set when id i is a multiple of 3, and the source cycles through every AnswerSource (PASSTHROUGH in passthrough). Served by Grpc.AspNetCore on
/// Kestrel (h2c, 127.0.0.1, port 0) with a health service reporting SERVING (after <see cref="HealthDelay"/>). Exchange streams are served by the node's
/// own <see cref="ExchangeSession"/> over these answers (no admission bound), as a real node serves them.
/// </summary>
internal sealed class FakeCacheNode : CacheNode.CacheNodeBase, IAsyncDisposable
{
    /// <summary>Users (mod 40) the node refuses on replica 0.</summary>
    public const int FailsOnFirstReplica = 17;

    /// <summary>Users (mod 40) the node refuses unless the call is in passthrough.</summary>
    public const int FailsUnlessPassthrough = 18;

    /// <summary>Users (mod 40) whose Check answer carries a bitmap one byte too long.</summary>
    public const int WrongBitmap = 19;

    /// <summary>Users (mod 40) whose BatchCheck entry, and every one after it, the node leaves out of its answer.</summary>
    public const int ShortBatch = 20;

    private readonly int _replica;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Session, bool UntilPeersApplied, bool Failed)> _markReads = new();
    private WebApplication? _app;
    private ExchangeHost? _exchanges;
    private int _filterCalls;
    private int _checkCalls;
    private int _batchCalls;
    private long _healthDelayTicks;
    private long _checkDelayTicks;
    private int _exchangeStreams;

    private FakeCacheNode(int replica) => _replica = replica;

    /// <summary>Filter calls served (only a forwarding proxy sends them: the decoding one serves Filter with Check).</summary>
    public int FilterCalls => Volatile.Read(ref _filterCalls);

    /// <summary>BatchCheck calls served.</summary>
    public int BatchCalls => Volatile.Read(ref _batchCalls);

    /// <summary>Check calls served.</summary>
    public int CheckCalls => Volatile.Read(ref _checkCalls);

    /// <summary>How long each health check waits before it answers (0 by default).</summary>
    public TimeSpan HealthDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _healthDelayTicks));
        set => Interlocked.Exchange(ref _healthDelayTicks, value.Ticks);
    }

    /// <summary>How long each Check waits before it answers (0 by default): a slow, overloaded node.</summary>
    public TimeSpan CheckDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _checkDelayTicks));
        set => Interlocked.Exchange(ref _checkDelayTicks, value.Ticks);
    }

    /// <summary>Exchange streams opened to this node.</summary>
    public int ExchangeStreams => Volatile.Read(ref _exchangeStreams);

    /// <summary>Every MarkRead this node received: the session, its until_peers_applied flag, and whether it was refused.</summary>
    public IReadOnlyCollection<(string Session, bool UntilPeersApplied, bool Failed)> MarkReads => _markReads;

    /// <summary>The node's gRPC address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Starts a fake of replica <paramref name="replica"/> of its slot.</summary>
    public static async Task<FakeCacheNode> StartAsync(int replica)
    {
        var node = new FakeCacheNode(replica);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(new IPEndPoint(IPAddress.Loopback, 0), listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(node);
        builder.Services.AddSingleton(new FakeHealth(node));
        var app = builder.Build();
        app.MapGrpcService<FakeHealth>();
        app.MapGrpcService<FakeCacheNode>();
        await app.StartAsync().DefaultTimeout();
        node._app = app;
        node._exchanges = new ExchangeHost(
            new AdmissionControl(new AdmissionLimits(), nameof(AdmissionOptions.Node), TimeSpan.FromMilliseconds(20)),
            new RpcMetrics(null, "fake"),
            TimeProvider.System,
            NullLogger<ExchangeHost>.Instance,
            app.Lifetime);
        node.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return node;
    }

    /// <inheritdoc />
    public override async Task<CheckResponse> Check(CacheCheckRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _checkCalls);
        if (CheckDelay > TimeSpan.Zero)
        {
            await Task.Delay(CheckDelay, context.CancellationToken);
        }

        return Answer(request.Request, request.Passthrough);
    }

    /// <summary>
    /// BatchCheck by the same rules, entry by entry: a user whose rule fails on this replica (or outside passthrough) fails
    /// the whole call, as a down replica would; the first entry's error rule fails the whole call when its user / 40 is
    /// odd; other error rules fail their own entry (the message names the entry's tenant, the request's when it names
    /// none); <see cref="ShortBatch"/> cuts the answer short.
    /// </summary>
    public override Task<BatchCheckResponse> BatchCheck(CacheBatchCheckRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _batchCalls);
        var batch = request.Request;
        foreach (var entry in batch.Requests)
        {
            if (entry.UserId % 40 is FailsOnFirstReplica or FailsUnlessPassthrough)
            {
                _ = Verdict(entry.UserId, request.Passthrough);
            }
        }

        if (batch.Requests.Count > 0 && batch.Requests[0].UserId / 40 % 2 == 1)
        {
            _ = Verdict(batch.Requests[0].UserId, request.Passthrough);
        }

        var response = new BatchCheckResponse();
        foreach (var entry in batch.Requests)
        {
            if (entry.UserId % 40 == ShortBatch)
            {
                break;
            }

            try
            {
                response.Results.Add(new UserCheckResult { Response = Answer(entry, request.Passthrough) });
            }
            catch (RpcException e)
            {
                var tenant = entry.Tenant.Length > 0 ? entry.Tenant : batch.Tenant;
                response.Results.Add(new UserCheckResult { StatusCode = (int)e.StatusCode, StatusMessage = $"{e.Status.Detail} (tenant '{tenant}')" });
            }
        }

        return Task.FromResult(response);
    }

    /// <inheritdoc />
    public override Task<FilterResponse> Filter(CacheCheckRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _filterCalls);
        _ = Verdict(request.Request.UserId, request.Passthrough);
        var answer = new FilterResponse { Source = Source(request.Request.UserId, request.Passthrough) };
        answer.UnreadIds.AddRange(request.Request.ContentIds.Where(static id => id % 3 != 0));
        return Task.FromResult(answer);
    }

    /// <inheritdoc />
    public override Task<MarkReadResponse> MarkRead(CacheMarkReadRequest request, ServerCallContext context)
    {
        try
        {
            _ = Verdict(request.Request.UserId, request.Passthrough);
        }
        catch (RpcException)
        {
            _markReads.Enqueue((request.Request.SessionId, request.UntilPeersApplied, true));
            throw;
        }

        _markReads.Enqueue((request.Request.SessionId, request.UntilPeersApplied, false));
        return Task.FromResult(new MarkReadResponse { Written = (uint)request.Request.Items.Count });
    }

    /// <inheritdoc />
    public override Task Exchange(IAsyncStreamReader<ExchangeRequests> requestStream, IServerStreamWriter<ExchangeResponses> responseStream, ServerCallContext context)
    {
        Interlocked.Increment(ref _exchangeStreams);
        return new ExchangeSession(this, _exchanges!, context).RunAsync(requestStream, responseStream);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().DefaultTimeout();
            await _app.DisposeAsync();
        }
    }

    private static AnswerSource Source(ulong user, bool passthrough) =>
        passthrough ? AnswerSource.Passthrough : (AnswerSource)(int)(user / 40 % 6);

    private static byte[] Bitmap(CheckRequest request)
    {
        var ids = request.ContentIds;
        var bitmap = new byte[(ids.Count + 7) / 8];
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] % 3 == 0)
            {
                bitmap[i >> 3] |= (byte)(1 << (i & 7));
            }
        }

        return bitmap;
    }

    private CheckResponse Answer(CheckRequest request, bool passthrough)
    {
        var rule = Verdict(request.UserId, passthrough);
        var bitmap = Bitmap(request);
        return new CheckResponse
        {
            ReadBitmap = ByteString.CopyFrom(rule == WrongBitmap ? [.. bitmap, 0] : bitmap),
            UnreadCount = (uint)(request.ContentIds.Count - bitmap.Sum(static b => BitOperations.PopCount(b))),
            Source = Source(request.UserId, passthrough),
        };
    }

    // Throws the status the user's rule says, else returns the rule.
    private int Verdict(ulong user, bool passthrough)
    {
        var rule = (int)(user % 40);
        if (rule is >= 1 and <= 16)
        {
            throw new RpcException(new Status((StatusCode)rule, $"the node refuses user {user} with {(StatusCode)rule}"));
        }

        if ((rule == FailsOnFirstReplica && _replica == 0) || (rule == FailsUnlessPassthrough && !passthrough))
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"the node is down for user {user}"));
        }

        return rule;
    }

    /// <summary>grpc.health.v1: SERVING for the whole server and for CacheNode, after the node's <see cref="HealthDelay"/>.</summary>
    private sealed class FakeHealth(FakeCacheNode node) : Health.HealthBase
    {
        public override async Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
        {
            if (node.HealthDelay > TimeSpan.Zero)
            {
                await Task.Delay(node.HealthDelay, context.CancellationToken);
            }

            return new HealthCheckResponse { Status = ServingStatus.Serving };
        }
    }
}
