using ReadHistory.LoadGen.Model;
using StackExchange.Redis;

namespace ReadHistory.LoadGen.Targets;

/// <summary>
/// Exact Redis sets, one per user: SADD to write, one SMISMEMBER (probe "script", the name it had when the client
/// lacked SMISMEMBER and it ran in an EVAL) or pipelined SISMEMBERs (probe "pipeline") to check.
/// </summary>
internal sealed class RedisSetTarget(TargetOptions options, WorkloadModel model) : RedisPeer(options, model, 1)
{
    private const string Prefix = "rs:";

    /// <inheritdoc />
    public override string Name => "redis-set";

    /// <inheritdoc />
    public override async Task CheckAsync(CheckCall call, CancellationToken cancellationToken)
    {
        var key = KeyOf(Prefix, call.UserId);
        if (Options.RedisSetProbe == "pipeline")
        {
            var batch = Database.CreateBatch();
            var answers = new Task<bool>[call.Ids.Length];
            for (var i = 0; i < answers.Length; i++)
            {
                answers[i] = batch.SetContainsAsync(key, (long)call.Ids[i]);
            }

            batch.Execute();
            await Task.WhenAll(answers).ConfigureAwait(false);
            for (var i = 0; i < answers.Length; i++)
            {
                call.Read[i] = answers[i].Result;
            }

            return;
        }

        var values = new RedisValue[call.Ids.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (long)call.Ids[i];
        }

        var result = await Database.SetContainsAsync(key, values).ConfigureAwait(false);
        result.CopyTo(call.Read, 0);
    }

    /// <inheritdoc />
    public override Task MarkReadAsync(ulong userId, string sessionId, ulong[] ids, CancellationToken cancellationToken)
    {
        var values = new RedisValue[ids.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (long)ids[i];
        }

        return Database.SetAddAsync(KeyOf(Prefix, userId), values);
    }

    /// <inheritdoc />
    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        var pending = new List<Task>(256);
        var chunk = new List<RedisValue>(1024);
        for (var rank = 0; rank < Model.Options.Users; rank++)
        {
            var user = Model.UserId(rank);
            var key = KeyOf(Prefix, user);
            var size = Model.HistorySize(rank);
            for (var i = 0; i < size; i++)
            {
                chunk.Add((long)Model.ReadId(user, i));
                if (chunk.Count == 1024 || i == size - 1)
                {
                    pending.Add(Database.SetAddAsync(key, [.. chunk]));
                    chunk.Clear();
                    if (pending.Count == 256)
                    {
                        await Task.WhenAll(pending).ConfigureAwait(false);
                        pending.Clear();
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }
            }

            RowsLoaded += size;
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }
}
