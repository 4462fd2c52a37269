using System.Collections.Concurrent;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Scheduling;
using ReadHistory.LoadGen.Targets;
using ReadHistory.LoadGen.Truth;

namespace ReadHistory.LoadGen.Running;

/// <summary>Check calls (one user each, or <c>batchUsers</c> users per BatchCheck): candidates from the ground truth, answers judged by it.</summary>
internal sealed class CheckStream(ILoadTarget target, GroundTruth truth, SessionTable sessions, StreamStats stats, TruthTally tally, int batchUsers) : IScheduledCall
{
    private const ulong StreamId = 0xc4ec_0001UL;

    /// <summary>Users checked (their preloaded rows estimate what a cache holds).</summary>
    public ConcurrentDictionary<ulong, byte> UsersTouched { get; } = new();

    /// <inheritdoc />
    public async Task InvokeAsync(long sequence, long intended)
    {
        var candidates = truth.Model.Options.Candidates;
        var calls = new CheckCall[batchUsers];
        var expected = new Expectation[batchUsers][];
        for (var b = 0; b < batchUsers; b++)
        {
            var (session, user) = sessions.ForCheck((sequence * batchUsers) + b);
            var call = new CheckCall(user, session, sessions.SessionId(session), candidates);
            var rng = new SplitMix(truth.Model.Options.Seed, StreamId, (ulong)((sequence * batchUsers) + b));
            expected[b] = new Expectation[candidates];
            truth.BuildCandidates(user, session, ref rng, call.Ids, expected[b]);
            calls[b] = call;
            UsersTouched.TryAdd(user, 0);
        }

        // A refusal for load is retried after the server's retry-after-ms while the wait fits the deadline.
        var attemptStarted = intended;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (batchUsers == 1)
                {
                    await target.CheckAsync(calls[0], CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    await target.BatchCheckAsync(calls, CancellationToken.None).ConfigureAwait(false);
                }

                break;
            }
            catch (Exception e) when (stats.RetryWait(intended, e, attempt, target.RetryBudget) is { } wait)
            {
                await stats.DelayAsync(wait).ConfigureAwait(false);
                attemptStarted = stats.Timestamp();
            }
            catch (Exception e)
            {
                stats.Failure(intended, e);
                return;
            }
        }

        stats.Success(intended, batchUsers * candidates, attemptStarted);
        for (var b = 0; b < batchUsers; b++)
        {
            tally.Judge(expected[b], calls[b].Read);
        }
    }

    /// <inheritdoc />
    public void Dropped(long sequence, long intended) => stats.Drop(intended);
}
