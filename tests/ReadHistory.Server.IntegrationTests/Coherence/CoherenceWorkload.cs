using ReadHistory.Api.V1;
using Grpc.Core;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.IntegrationTests.Coherence;

/// <summary>
/// What the coherence tests do to a <see cref="CoherenceCluster"/>: bursts of acknowledged writes recorded in an exact
/// model, checks that keep replicas rebuilding, fences proving a replica has applied the stream up to a point, and
/// the final check of every acknowledged id.
/// </summary>
/// <param name="users">The users written and checked.</param>
/// <param name="seed">Seed of the writers' and checkers' choices.</param>
/// <param name="hotUsers">Users that get half of all writes (none: writes spread evenly over <paramref name="users"/>).</param>
internal sealed class CoherenceWorkload(IReadOnlyList<ulong> users, int seed, IReadOnlyList<ulong>? hotUsers = null)
{
    private long _nextId;
    private long _failedWrites;

    /// <summary>The exact model of acknowledged writes.</summary>
    public AcknowledgedReads Model { get; } = new();

    /// <summary>Writes that were not acknowledged (a replica's write path does not depend on Redis, so this stays 0).</summary>
    public long FailedWrites => Interlocked.Read(ref _failedWrites);

    /// <summary>The errors of failed writes (for the assertion message).</summary>
    public List<string> Errors { get; } = [];

    /// <summary>
    /// <paramref name="writers"/> concurrent loops of MarkRead (1–3 fresh ids for a random user), each through
    /// <c>targets[writer % targets.Length]()</c>, until <paramref name="stop"/> or <paramref name="maxWrites"/> writes.
    /// </summary>
    public Task WriteAsync(Func<CoherenceCluster.Replica>[] targets, int writers, int maxWrites, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            var random = new Random(seed + writer);
            for (var i = 0; i < maxWrites && !stop.IsCancellationRequested && Model.Writes + FailedWrites < maxWrites; i++)
            {
                var user = hotUsers is { Count: > 0 } && random.Next(2) == 0 ? hotUsers[random.Next(hotUsers.Count)] : users[random.Next(users.Count)];
                var ids = new ulong[random.Next(1, 4)];
                for (var k = 0; k < ids.Length; k++)
                {
                    ids[k] = (ulong)Interlocked.Increment(ref _nextId);
                }

                try
                {
                    await targets[writer % targets.Length]().MarkAsync(user, ids);
                    Model.Acknowledge(user, ids);
                }
                catch (Exception e) when (e is RpcException or TimeoutException)
                {
                    Interlocked.Increment(ref _failedWrites);
                    lock (Errors)
                    {
                        Errors.Add(e.Message);
                    }
                }
            }
        })));

    /// <summary>
    /// Checks random users through <paramref name="target"/> until <paramref name="stop"/>, so the replica rebuilds users
    /// while writes race with it; answers are not judged (they may lag). Calls to a replica being stopped may fail.
    /// </summary>
    public async Task CheckAsync(Func<CoherenceCluster.Replica?> target, CancellationToken stop)
    {
        var random = new Random(seed ^ 0x5eed);
        for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
        {
            try
            {
                if (target() is { } replica)
                {
                    await replica.CheckAsync(users[random.Next(users.Count)], [1, 2, 3]);
                }
            }
            catch (Exception e) when (e is RpcException or TimeoutException or ObjectDisposedException or HttpRequestException)
            {
                // The replica is stopping or starting.
            }

            await Task.Delay(5, CancellationToken.None);
        }
    }

    /// <summary>Waits until the model holds at least <paramref name="writes"/> acknowledged writes (bounded).</summary>
    public Task UntilWritesAsync(long writes) =>
        Poll.UntilAsync(
            () => Task.FromResult((Acknowledged: Model.Writes, Failed: FailedWrites)),
            seen => seen.Acknowledged >= writes,
            $"{writes} acknowledged writes (seen as: acknowledged, failed)");

    /// <summary>Makes every user of the workload held in memory by <paramref name="replica"/> (it rebuilds each on a miss).</summary>
    public async Task WarmAsync(CoherenceCluster.Replica replica)
    {
        foreach (var user in users)
        {
            await replica.CheckUntilAsync(user, [1], static r => r.Source == AnswerSource.Memory);
        }
    }

    /// <summary>
    /// Proves that <paramref name="reader"/> has applied its slot stream at least up to now: a marker written through
    /// <paramref name="writer"/> for a user the reader holds shows up in the reader's memory. Everything acknowledged
    /// before the marker was committed before it, so it sits earlier in the stream and is applied too.
    /// </summary>
    public async Task FenceAsync(CoherenceCluster.Replica writer, CoherenceCluster.Replica reader, ulong fenceUser)
    {
        var marker = (ulong)Interlocked.Increment(ref _nextId);
        await reader.CheckUntilAsync(fenceUser, [marker], static r => r.Source == AnswerSource.Memory);
        await writer.MarkAsync(fenceUser, [marker]);
        await reader.CheckUntilAsync(fenceUser, [marker], static r => r.Source == AnswerSource.Memory && r.UnreadCount == 0);
    }

    /// <summary>
    /// Checks every acknowledged id of every user through <paramref name="replica"/>, together with
    /// <paramref name="negativesPerUser"/> ids never written, until the user is answered from memory (every answer,
    /// from whatever source, is judged for false negatives; false positives are counted on the memory answers).
    /// </summary>
    public async Task<Verification> VerifyAsync(CoherenceCluster.Replica replica, int negativesPerUser)
    {
        var result = new Verification();
        foreach (var user in Model.Users)
        {
            var written = Model.Of(user);
            var ids = new ulong[written.Length + negativesPerUser];
            written.CopyTo(ids, 0);
            for (var i = 0; i < negativesPerUser; i++)
            {
                ids[written.Length + i] = AcknowledgedReads.NegativeBase + (user << 20) + (ulong)i;
            }

            result.Users++;
            result.Ids += written.Length;
            await replica.CheckUntilAsync(user, ids, answer =>
            {
                var bitmap = answer.ReadBitmap.Span;
                for (var i = 0; i < ids.Length; i++)
                {
                    var read = (bitmap[i >> 3] & (1 << (i & 7))) != 0;
                    if (i < written.Length && !read)
                    {
                        result.FalseNegatives.Add($"user {user} id {ids[i]} ({answer.Source})");
                    }
                    else if (i >= written.Length && answer.Source == AnswerSource.Memory)
                    {
                        result.Negatives++;
                        result.FalsePositives += read ? 1 : 0;
                    }
                }

                return answer.Source == AnswerSource.Memory;
            });
        }

        return result;
    }

    /// <summary>The outcome of <see cref="VerifyAsync"/>.</summary>
    internal sealed class Verification
    {
        public int Users { get; set; }

        public long Ids { get; set; }

        public List<string> FalseNegatives { get; } = [];

        public long Negatives { get; set; }

        public long FalsePositives { get; set; }

        public double FalsePositiveRate => Negatives == 0 ? 0 : FalsePositives / (double)Negatives;

        public override string ToString() =>
            FormattableString.Invariant($"{Users} users, {Ids} acknowledged ids: {FalseNegatives.Count} false negatives; {FalsePositives} false positives in {Negatives} never-written ids = {FalsePositiveRate:P2}");
    }
}
