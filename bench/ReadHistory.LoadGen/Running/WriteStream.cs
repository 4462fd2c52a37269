using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Scheduling;
using ReadHistory.LoadGen.Targets;
using ReadHistory.LoadGen.Truth;

namespace ReadHistory.LoadGen.Running;

/// <summary>Write calls (MarkRead of <c>batch</c> fresh ids for the user a session holds); acknowledged ids enter the ground truth.</summary>
internal sealed class WriteStream(ILoadTarget target, GroundTruth truth, SessionTable sessions, StreamStats stats, int batch) : IScheduledCall
{
    /// <inheritdoc />
    public async Task InvokeAsync(long sequence, long intended)
    {
        var (session, user) = sessions.ForWrite(sequence);
        var ids = new ulong[batch];
        truth.AllocateWriteIds(user, ids);
        // A refusal for load is retried after the server's retry-after-ms while the wait fits the deadline (MarkRead is idempotent).
        var attemptStarted = intended;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await target.MarkReadAsync(user, sessions.SessionId(session), ids, CancellationToken.None).ConfigureAwait(false);
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

        truth.Acknowledge(user, session, ids);
        stats.Success(intended, batch, attemptStarted);
    }

    /// <inheritdoc />
    public void Dropped(long sequence, long intended) => stats.Drop(intended);
}
