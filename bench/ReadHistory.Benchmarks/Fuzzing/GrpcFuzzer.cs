using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Auth;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Benchmarks.Fuzzing;

/// <summary>
/// Fuzzes the public API over real gRPC: every method of readhistory.v1.ReadHistory called with raw request bytes (a
/// <c>Method&lt;byte[], byte[]&gt;</c> with identity marshallers), structure-aware (<see cref="RandomRequests"/>: fields in
/// any order, repeated, wrong wire types, unknown fields, values at and past every limit of the host's
/// <see cref="Configure">configuration</see>) and then, one call in three, mutated as bytes (bit flips, truncation, huge
/// varints, splices). Metadata: valid, wrong, malformed and absent API keys, short and long deadlines, grpc-timeout
/// values of every shape, random ASCII and binary headers, now and then one past the header limit. Rules: every answer
/// a status the API documents (CANCELLED too for a call whose deadline ran out: the server resets the stream of an
/// expired call, which the client reports so); a request whose messages parse and whose headers are within the limits
/// never gets INTERNAL; nothing gets UNKNOWN; no call outlives the hang bound. Calls with headers past the limit go on
/// a channel of their own: a client that sends them before it has read the server's SETTINGS has its whole connection
/// closed (COMPRESSION_ERROR, documented in docs/operations.md, "Limits"), which must not fail the other calls.
/// </summary>
internal sealed class GrpcFuzzer(CallInvoker invoker, CallInvoker oversizeInvoker, int seed, int workers)
{
    /// <summary>An API key with every scope for tenants feed and feed-eu (feed is its default).</summary>
    public const string WriterKey = "rh_fuzz_writer_0c9f2e71";

    /// <summary>An API key with scope read for tenant feed.</summary>
    public const string ReaderKey = "rh_fuzz_reader_77a1d3b4";

    /// <summary>Ids per call the host allows (lower than shipped, so that the limit is cheap to reach).</summary>
    public const int MaxIds = 1_000;

    /// <summary>Users per BatchCheck the host allows.</summary>
    public const int MaxBatchUsers = 20;

    /// <summary>Messages per Ingest stream the host allows.</summary>
    public const int MaxIngestMessages = 4;

    /// <summary>How long one call may take before it counts as a hang (deadlines asked are at most 20 s).</summary>
    public static readonly TimeSpan HangBound = TimeSpan.FromSeconds(60);

    /// <summary>The finding of a well-formed call failed because the server closed its connection (for another call's doing).</summary>
    public const string ConnectionClosedKind = "connection closed by the server under a well-formed call";

    private const string ConnectionClosed = "The HTTP/2 server closed the connection";

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(static b => b, static b => b);
    private static readonly string[] Timeouts = ["1n", "1u", "1m", "100m", "20S", "1M", "1H", "0m", "99999999m", "123456789H", "-1S", "1x", "m", "", "10 S", "0x10m"];
    private static readonly StatusCode[] Documented =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.ResourceExhausted, StatusCode.Unavailable,
        StatusCode.DeadlineExceeded, StatusCode.Unauthenticated, StatusCode.PermissionDenied,
    ];

    private static readonly (string Name, MethodType Type, MessageParser Parser)[] Methods =
    [
        ("Check", MethodType.Unary, CheckRequest.Parser),
        ("Filter", MethodType.Unary, CheckRequest.Parser),
        ("BatchCheck", MethodType.Unary, BatchCheckRequest.Parser),
        ("MarkRead", MethodType.Unary, MarkReadRequest.Parser),
        ("Ingest", MethodType.ClientStreaming, IngestRequest.Parser),
        ("ForgetUser", MethodType.Unary, ForgetUserRequest.Parser),
    ];

    private static readonly int[] MethodWeights = [25, 15, 10, 25, 15, 10];

    /// <summary>Adds to a host's settings what the fuzzer expects: API keys on, its two keys, its limits.</summary>
    public static void Configure(Dictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings["ReadHistory:Auth:Mode"] = "ApiKeys";
        settings["ReadHistory:Auth:Keys:fuzz-writer:Sha256"] = ApiKeyRing.HashOf(WriterKey);
        settings["ReadHistory:Auth:Keys:fuzz-writer:Tenants:0"] = "feed";
        settings["ReadHistory:Auth:Keys:fuzz-writer:Tenants:1"] = "feed-eu";
        settings["ReadHistory:Auth:Keys:fuzz-writer:Scopes:0"] = "read";
        settings["ReadHistory:Auth:Keys:fuzz-writer:Scopes:1"] = "write";
        settings["ReadHistory:Auth:Keys:fuzz-writer:Scopes:2"] = "forget";
        settings["ReadHistory:Auth:Keys:fuzz-reader:Sha256"] = ApiKeyRing.HashOf(ReaderKey);
        settings["ReadHistory:Auth:Keys:fuzz-reader:Tenants:0"] = "feed";
        settings["ReadHistory:Auth:Keys:fuzz-reader:Scopes:0"] = "read";
        settings["ReadHistory:Limits:MaxIdsPerCall"] = MaxIds.ToString(CultureInfo.InvariantCulture);
        settings["ReadHistory:Limits:MaxBatchUsers"] = MaxBatchUsers.ToString(CultureInfo.InvariantCulture);
        settings["ReadHistory:Limits:MaxBatchIds"] = (MaxIds * 5).ToString(CultureInfo.InvariantCulture);
        settings["ReadHistory:Limits:MaxIngestMessagesPerStream"] = MaxIngestMessages.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// After a run: a MarkRead with the writer key, then a Check of the same id, must answer read (and an id never
    /// written, unread). Returns what went wrong, or null.
    /// </summary>
    public static async Task<string?> VerifyCorrectnessAsync(CallInvoker invoker)
    {
        var client = new ReadHistory.Api.V1.ReadHistory.ReadHistoryClient(invoker);
        var headers = new Metadata { { "authorization", "Bearer " + WriterKey } };
        var user = 0x5EED_0000_0000_0001UL;
        var written = await client.MarkReadAsync(
            new MarkReadRequest { UserId = user, ContentType = 3, Items = { new ReadItem { ContentId = 4242 } } },
            headers, DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
        var check = await client.CheckAsync(
            new CheckRequest { UserId = user, ContentType = 3, ContentIds = { 4242, 4243 } },
            headers, DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
        return written.Written == 1 && check.UnreadCount == 1 && check.ReadBitmap.Length > 0 && check.ReadBitmap[0] == 1
            ? null
            : $"after the run a MarkRead of 4242 then a Check of 4242 and 4243 answered written {written.Written}, unread {check.UnreadCount}, bitmap {Convert.ToHexString(check.ReadBitmap.Span)}";
    }

    /// <summary>
    /// Makes <paramref name="calls"/> calls from <c>workers</c> concurrent callers, or as many as <paramref name="budget"/>
    /// leaves time for (the report says how many); returns the report.
    /// </summary>
    public async Task<FuzzReport> RunAsync(long calls, TimeSpan? budget = null, Action<long>? progress = null)
    {
        var until = budget ?? TimeSpan.MaxValue;
        var report = new FuzzReport("public gRPC API", seed, corpusSize: Methods.Length);
        var issued = 0L;
        var completed = 0L;
        var slowest = 0L;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var caller = new Caller(seed, w);
            while (clock.Elapsed < until && Interlocked.Increment(ref issued) <= calls)
            {
                var input = caller.Next();
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                var outcome = await CallAsync(input).ConfigureAwait(false);
                var took = System.Diagnostics.Stopwatch.GetElapsedTime(start);
                InterlockedMax(ref slowest, took.Ticks);
                lock (report)
                {
                    Judge(report, input, outcome, took);
                }

                var done = Interlocked.Increment(ref completed);
                if (done % 10_000 == 0)
                {
                    progress?.Invoke(done);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        report.Inputs = completed;
        report.Elapsed = clock.Elapsed;
        report.SlowestInput = TimeSpan.FromTicks(slowest);
        return report;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private static void Judge(FuzzReport report, GrpcInput input, CallOutcome outcome, TimeSpan took)
    {
        var validity = !input.MessagesParse ? "bad message" : input.HeadersWellFormed ? "valid" : "bad headers";
        report.Count(outcome.ClientError is null ? $"{input.Method} {outcome.Status} ({validity})" : $"{input.Method} client-refused");
        if (outcome.Hung || took > HangBound)
        {
            report.Find("hang", $"{input.Method}: no answer within {HangBound.TotalSeconds} s", input.ToReproducer());
        }
        else if (outcome.ClientError is { } error)
        {
            // The client library refused to send it (a header it does not allow): the server never saw it.
            if (input.HeadersWellFormed)
            {
                report.Find("client exception", $"{input.Method}: {error}", input.ToReproducer());
            }
        }
        else if (outcome.Status == StatusCode.Unknown)
        {
            report.Find("UNKNOWN", $"{input.Method} ({validity}): {outcome.Detail}", input.ToReproducer());
        }
        else if (outcome.Detail?.Contains(ConnectionClosed, StringComparison.Ordinal) == true && input.MessagesParse && input.HeadersWellFormed)
        {
            // Not an answer to this request: the server closed the whole connection under it, for something another
            // call on the connection did (Kestrel does so for a DATA frame on a stream it no longer tracks: STREAM_CLOSED).
            report.Find(ConnectionClosedKind, $"{input.Method}: {outcome.Detail}", input.ToReproducer());
        }
        else if (outcome.Status == StatusCode.Internal && input.MessagesParse && input.HeadersWellFormed)
        {
            report.Find("INTERNAL for a valid request", $"{input.Method}: {outcome.Detail}", input.ToReproducer());
        }
        else if (outcome.Status == StatusCode.Cancelled && input.Deadline > TimeSpan.FromSeconds(1) && input.RawTimeout is null)
        {
            report.Find("CANCELLED before the deadline", $"{input.Method} ({validity}): {outcome.Detail}", input.ToReproducer());
        }
        else if (outcome.Status is not (StatusCode.Internal or StatusCode.Cancelled) && !Documented.Contains(outcome.Status))
        {
            report.Find("undocumented status " + outcome.Status, $"{input.Method} ({validity}): {outcome.Detail}", input.ToReproducer());
        }
    }

    private async Task<CallOutcome> CallAsync(GrpcInput input)
    {
        using var hang = new CancellationTokenSource(HangBound);
        var headers = new Metadata();
        try
        {
            foreach (var (name, value) in input.Headers)
            {
                if (name.EndsWith("-bin", StringComparison.Ordinal))
                {
                    headers.Add(name, Encoding.Latin1.GetBytes(value));
                }
                else
                {
                    headers.Add(name, value);
                }
            }
        }
        catch (ArgumentException e)
        {
            return new CallOutcome(StatusCode.OK, null, e.GetType().Name + ": " + e.Message, Hung: false);
        }

        var options = new CallOptions(headers, DateTime.UtcNow + input.Deadline, hang.Token);
        var method = new Method<byte[], byte[]>(input.Type, "readhistory.v1.ReadHistory", input.Method, Raw, Raw);
        var target = input.HeadersWithinLimit ? invoker : oversizeInvoker;
        try
        {
            if (input.Type == MethodType.Unary)
            {
                using var call = target.AsyncUnaryCall(method, null, options, input.Messages[0]);
                await call.ResponseAsync.ConfigureAwait(false);
            }
            else
            {
                using var call = target.AsyncClientStreamingCall(method, null, options);
                try
                {
                    foreach (var message in input.Messages)
                    {
                        await call.RequestStream.WriteAsync(message).ConfigureAwait(false);
                    }

                    await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The server ended the call while it was being sent (a limit, a refusal): its status is the answer.
                }

                await call.ResponseAsync.ConfigureAwait(false);
            }

            return new CallOutcome(StatusCode.OK, string.Empty, null, Hung: false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && hang.IsCancellationRequested)
        {
            return new CallOutcome(e.StatusCode, e.Status.Detail, null, Hung: true);
        }
        catch (RpcException e)
        {
            return new CallOutcome(e.StatusCode, e.Status.Detail, null, Hung: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new CallOutcome(StatusCode.OK, null, e.GetType().Name + ": " + e.Message, Hung: false);
        }
    }

    /// <summary>Whether every message of <paramref name="messages"/> parses as <paramref name="parser"/>'s type.</summary>
    private static bool Parses(MessageParser parser, byte[][] messages)
    {
        try
        {
            foreach (var message in messages)
            {
                parser.ParseFrom(message);
            }

            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    /// <summary>One worker's deterministic source of calls.</summary>
    private sealed class Caller(int seed, int worker)
    {
        private readonly Random _random = new(HashCode.Combine(seed, worker, 17));
        private readonly RandomRequests _requests = new((seed * 1_000) + worker, MaxIds);
        private readonly Mutator _mutator = new((seed * 1_000) + worker + 500);
        private byte[] _previous = [];

        public GrpcInput Next()
        {
            var pick = _random.Next(MethodWeights.Sum());
            var index = 0;
            while (pick >= MethodWeights[index])
            {
                pick -= MethodWeights[index++];
            }

            var (name, type, parser) = Methods[index];
            var user = User();
            var messages = name switch
            {
                "Check" or "Filter" => [_requests.Check(user)],
                "BatchCheck" => [_requests.BatchCheck(Enumerable.Range(0, BatchUsers()).Select(_ => User()).ToList())],
                "MarkRead" => [_requests.MarkRead(user)],
                "Ingest" => Enumerable.Range(0, IngestMessages()).Select(_ => IngestMessage(user)).ToArray(),
                _ => [ForgetUser(user)],
            };
            if (messages.Length > 0 && _random.Next(3) == 0)
            {
                var at = _random.Next(messages.Length);
                var mutated = _mutator.Mutate(messages[at], _previous);
                _previous = messages[at];
                messages[at] = mutated;
            }
            else if (messages.Length > 0)
            {
                _previous = messages[0];
            }

            var (headers, extra, rawTimeout) = Headers();
            var deadline = _random.Next(10) == 0 ? TimeSpan.FromMilliseconds(_random.Next(1, 50)) : TimeSpan.FromSeconds(20);
            return new GrpcInput(name, type, messages, headers, rawTimeout, deadline, Parses(parser, messages))
            {
                HeadersWithinLimit = extra.All(h => h.Value.Length < 4_000),
                HeadersWellFormed = extra.All(h => h.Value.Length < 4_000) && (rawTimeout is null || IsTimeout(rawTimeout)),
            };
        }

        // A grpc-timeout value as the gRPC spec writes one: 1 to 8 digits and a unit.
        private static bool IsTimeout(string value) =>
            value.Length is >= 2 and <= 9 && value[..^1].All(char.IsAsciiDigit) && "HMSmun".Contains(value[^1], StringComparison.Ordinal);

        private ulong User() => _random.Next(40) switch
        {
            0 => 0,
            1 => ulong.MaxValue,
            _ => (ulong)_random.Next(1, 200) * 977,
        };

        private int BatchUsers() => _random.Next(8) switch
        {
            0 => 0,
            1 => MaxBatchUsers,
            2 => MaxBatchUsers + 1,
            _ => _random.Next(1, 6),
        };

        private int IngestMessages() => _random.Next(8) switch
        {
            0 => 0,
            1 => MaxIngestMessages,
            2 => MaxIngestMessages + 1,
            _ => _random.Next(1, 3),
        };

        private byte[] IngestMessage(ulong user)
        {
            var batch = _requests.MarkRead(user);
            using var stream = new MemoryStream();
            var output = new CodedOutputStream(stream);
            switch (_random.Next(12))
            {
                case 0:
                    break; // an empty message: no batch
                case 1:
                    output.WriteTag(7, WireFormat.WireType.Varint);
                    output.WriteUInt64((ulong)_random.NextInt64());
                    goto default;
                case 2:
                    output.WriteTag(1, WireFormat.WireType.Fixed64); // the batch with another wire type: an unknown field
                    output.WriteFixed64(1);
                    break;
                default:
                    output.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(batch));
                    break;
            }

            output.Flush();
            return stream.ToArray();
        }

        private byte[] ForgetUser(ulong user)
        {
            using var stream = new MemoryStream();
            var output = new CodedOutputStream(stream);
            foreach (var field in Enumerable.Range(0, 3).OrderBy(_ => _random.Next()))
            {
                switch (field)
                {
                    case 0 when _random.Next(12) != 0:
                        output.WriteTag(1, _random.Next(20) == 0 ? WireFormat.WireType.Varint : WireFormat.WireType.Fixed64);
                        output.WriteFixed64(user);
                        break;
                    case 1 when _random.Next(3) != 0:
                        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
                        output.WriteString(_random.Next(6) switch
                        {
                            0 => "feed-eu",
                            1 => "nowhere",
                            2 => "Bad!",
                            3 => new string('t', 64 + _random.Next(2)),
                            _ => "feed",
                        });
                        break;
                    case 2 when _random.Next(4) == 0:
                        output.WriteTag(_random.Next(3, 5000), WireFormat.WireType.LengthDelimited);
                        output.WriteBytes(ByteString.CopyFrom(new byte[_random.Next(20)]));
                        break;
                }
            }

            output.Flush();
            return stream.ToArray();
        }

        private (List<(string Name, string Value)> All, List<(string Name, string Value)> Extra, string? RawTimeout) Headers()
        {
            var all = new List<(string, string)>();
            var extra = new List<(string Name, string Value)>();
            var authorization = _random.Next(20) switch
            {
                0 => null,
                1 => "Bearer rh_fuzz_nobody",
                2 => "Bearer ",
                3 => "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("user:" + WriterKey)),
                4 => "bearer " + WriterKey,
                5 => "Bearer " + WriterKey + " extra",
                6 => RandomAscii(1, 80),
                < 10 => "Bearer " + ReaderKey,
                _ => "Bearer " + WriterKey,
            };
            if (authorization is not null)
            {
                all.Add(("authorization", authorization));
            }

            string? rawTimeout = null;
            if (_random.Next(10) == 0)
            {
                rawTimeout = Timeouts[_random.Next(Timeouts.Length)];
                all.Add(("grpc-timeout", rawTimeout));
            }

            for (var i = _random.Next(6) == 0 ? 1 + _random.Next(3) : 0; i > 0; i--)
            {
                var binary = _random.Next(3) == 0;
                var name = "x-fuzz-" + _random.Next(100).ToString(CultureInfo.InvariantCulture) + (binary ? "-bin" : string.Empty);
                var value = binary ? RandomLatin1(_random.Next(10) == 0 ? 20_000 : _random.Next(100)) : RandomAscii(0, _random.Next(10) == 0 ? 20_000 : 100);
                extra.Add((name, value));
                all.Add((name, value));
            }

            return (all, extra, rawTimeout);
        }

        private string RandomAscii(int min, int max)
        {
            var chars = new char[_random.Next(min, max + 1)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = (char)_random.Next(0x20, 0x7F);
            }

            return new string(chars);
        }

        private string RandomLatin1(int length)
        {
            var chars = new char[length];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = (char)_random.Next(0, 256);
            }

            return new string(chars);
        }
    }
}

/// <summary>One call of the gRPC fuzzer: method, request messages, metadata, deadline, and whether its messages parse.</summary>
internal sealed record GrpcInput(
    string Method,
    MethodType Type,
    byte[][] Messages,
    List<(string Name, string Value)> Headers,
    string? RawTimeout,
    TimeSpan Deadline,
    bool MessagesParse)
{
    /// <summary>Whether the headers are within the server's size limit (else the call goes on the channel for those).</summary>
    public bool HeadersWithinLimit { get; init; }

    /// <summary>Whether the headers are within the limit and any grpc-timeout is well-formed.</summary>
    public bool HeadersWellFormed { get; init; }

    /// <summary>The call as text (UTF-8 bytes) a regression test can replay by hand.</summary>
    public byte[] ToReproducer()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Method} deadline {Deadline.TotalMilliseconds} ms {(MessagesParse ? "parses" : "does not parse")}, headers {(HeadersWellFormed ? "well-formed" : "malformed")}; ");
        foreach (var (name, value) in Headers)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}: {(value.Length > 100 ? value[..100] + $"… ({value.Length} chars)" : value)}; ");
        }

        foreach (var message in Messages)
        {
            text.Append("message ").Append(Convert.ToHexString(message)).Append("; ");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

/// <summary>How a call ended: its status, or an exception of the client library before the server saw it, or no answer.</summary>
internal sealed record CallOutcome(StatusCode Status, string? Detail, string? ClientError, bool Hung);
