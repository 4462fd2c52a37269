using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Chaos;

/// <summary>
/// Steady open-loop traffic through the proxies: MarkRead of random users (1..3 ids, each call in one of the user's
/// sessions) and Check of a written user's acknowledged reads — its newest and random older ones — mixed with ids never
/// written, in one of the user's sessions. Every outcome goes to the current phase's <see cref="PhaseStats"/>; acknowledged
/// reads go to the <see cref="Ledger"/>. Calls in flight are capped so that an outage cannot pile them up without bound.
/// </summary>
internal sealed class TrafficDriver : IAsyncDisposable
{
    private const int MaxInFlight = 400;
    private const int RecentIdsPerCheck = 4;
    private const int OlderIdsPerCheck = 4;
    private const int NeverWrittenIdsPerCheck = 6;

    private readonly ChaosOptions _options;
    private readonly Ledger _ledger;
    private readonly ReadHistoryClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly ThreadLocal<Random> _random;
    private PhaseStats _phase;
    private int _inFlight;
    private long _shed;
    private Task? _loops;

    /// <summary>Traffic through <paramref name="client"/>, recorded into <paramref name="phase"/> until <see cref="Enter"/> moves it on.</summary>
    public TrafficDriver(ChaosOptions options, Ledger ledger, ReadHistoryClient client, PhaseStats phase)
    {
        _options = options;
        _ledger = ledger;
        _client = client;
        _phase = phase;
        var seeds = new Random(options.Seed);
        _random = new ThreadLocal<Random>(() =>
        {
            lock (seeds)
            {
                return new Random(seeds.Next());
            }
        });
    }

    /// <summary>Calls not made because <see cref="MaxInFlight"/> were in flight.</summary>
    public long Shed => Interlocked.Read(ref _shed);

    /// <summary>Starts the write and check loops.</summary>
    public void Start() => _loops = Task.WhenAll(
        Task.Run(() => PaceAsync(_options.WriteRate, WriteAsync)),
        Task.Run(() => PaceAsync(_options.CheckRate, CheckAsync)));

    /// <summary>Records calls started from now on into <paramref name="phase"/>.</summary>
    public void Enter(PhaseStats phase) => Volatile.Write(ref _phase, phase);

    /// <summary>Stops starting calls and waits (bounded) for those in flight.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_loops is not null)
        {
            await _loops;
        }

        var clock = Stopwatch.StartNew();
        while (Volatile.Read(ref _inFlight) > 0 && clock.Elapsed < _options.CallDeadline + TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _random.Dispose();
    }

    private async Task PaceAsync(double rate, Func<PhaseStats, Task> call)
    {
        var clock = Stopwatch.StartNew();
        long started = 0;
        while (!_stop.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            for (; started < due; started++)
            {
                if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
                {
                    Interlocked.Decrement(ref _inFlight);
                    Interlocked.Increment(ref _shed);
                    continue;
                }

                _ = RunAsync(call, Volatile.Read(ref _phase));
            }

            try
            {
                await Task.Delay(5, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunAsync(Func<PhaseStats, Task> call, PhaseStats phase)
    {
        try
        {
            await call(phase);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task WriteAsync(PhaseStats phase)
    {
        var random = _random.Value!;
        var user = (ulong)random.Next(_options.Users) + 1_000;
        var session = random.Next(_options.SessionsPerUser);
        var count = random.Next(1, 4);
        var ids = new ulong[count];
        var request = new MarkReadRequest { UserId = user, ContentType = Ledger.ContentType, SessionId = SessionId(user, session) };
        for (var i = 0; i < count; i++)
        {
            // Top bit clear (never-written ids have it set), never 0.
            ids[i] = ((ulong)random.NextInt64() & (Ledger.NeverWrittenBit - 1)) | 1;
            request.Items.Add(new ReadItem { ContentId = ids[i] });
        }

        var startedAt = Stopwatch.GetTimestamp();
        var status = StatusCode.OK;
        try
        {
            await _client.MarkReadAsync(request, deadline: DateTime.UtcNow + _options.CallDeadline);
            _ledger.Acknowledge(user, ids, Stopwatch.GetTimestamp(), session);
        }
        catch (RpcException e)
        {
            status = e.StatusCode;
            _ledger.Unknown(count);
        }

        phase.RecordWrite(startedAt, status, count);
    }

    private async Task CheckAsync(PhaseStats phase)
    {
        var random = _random.Value!;
        if (_ledger.PickUser(random) is not { } user)
        {
            return;
        }

        // Half the checks in the session of the user's last write (same-session reads of fresh writes), half in any.
        var session = random.Next(2) == 0 ? user.LastSession : random.Next(_options.SessionsPerUser);
        var startedAt = Stopwatch.GetTimestamp();
        var acked = new List<AckedRead>(RecentIdsPerCheck + OlderIdsPerCheck);
        user.Sample(startedAt, RecentIdsPerCheck, OlderIdsPerCheck, random, acked);
        var request = new CheckRequest { UserId = user.UserId, ContentType = Ledger.ContentType, SessionId = SessionId(user.UserId, session) };
        foreach (var read in acked)
        {
            request.ContentIds.Add(read.ContentId);
        }

        for (var i = 0; i < NeverWrittenIdsPerCheck; i++)
        {
            request.ContentIds.Add((ulong)random.NextInt64() | Ledger.NeverWrittenBit);
        }

        CheckResponse response;
        try
        {
            response = await _client.CheckAsync(request, deadline: DateTime.UtcNow + _options.CallDeadline);
        }
        catch (RpcException e)
        {
            phase.RecordCheckFailure(startedAt, e.StatusCode);
            return;
        }

        var bitmap = response.ReadBitmap.Span;
        var verdicts = new CheckVerdicts { AckedChecked = acked.Count, NeverWrittenChecked = NeverWrittenIdsPerCheck };
        for (var i = 0; i < request.ContentIds.Count; i++)
        {
            var read = i / 8 < bitmap.Length && (bitmap[i / 8] & (1 << (i % 8))) != 0;
            if (i >= acked.Count)
            {
                verdicts.FalsePositives += read ? 1 : 0;
                continue;
            }

            if (read)
            {
                continue;
            }

            var age = startedAt - acked[i].AckedAt;
            var same = acked[i].Session == session;
            verdicts.MaxFalseNegativeAgeSeconds = Math.Max(verdicts.MaxFalseNegativeAgeSeconds, (double)age / Stopwatch.Frequency);
            if (age <= PhaseStats.RecentTicks)
            {
                verdicts.FnRecentSame += same ? 1 : 0;
                verdicts.FnRecentOther += same ? 0 : 1;
            }
            else
            {
                verdicts.FnOlderSame += same ? 1 : 0;
                verdicts.FnOlderOther += same ? 0 : 1;
            }
        }

        phase.RecordCheck(startedAt, verdicts);
    }

    /// <summary>The session id of session <paramref name="index"/> of <paramref name="user"/>.</summary>
    public static string SessionId(ulong user, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"u{user}-s{index}");
}
