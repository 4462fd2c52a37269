using System.Collections.Concurrent;
using ReadHistory.LoadGen.Model;

namespace ReadHistory.LoadGen.Truth;

/// <summary>
/// Every history exactly: the preload (computed from the model) plus every acknowledged write (kept here with its
/// session and acknowledgement time). Builds the candidates of a check together with what each must be.
/// </summary>
internal sealed class GroundTruth
{
    /// <summary>Recent acknowledged writes of the user offered in each check (read-your-writes probes).</summary>
    private const int RecentWritesPerCheck = 16;

    private readonly WorkloadModel _model;
    private readonly long _coherenceTicks;
    private readonly ConcurrentDictionary<ulong, UserLedger> _ledgers = new();
    private readonly long _writeBase;
    private long _acknowledged;

    /// <summary>
    /// Truth over <paramref name="model"/>; writes by another session count only after <paramref name="coherenceWindow"/>.
    /// Written ids of user u are <c>ReadId(u, size + writeBase + n)</c>: a run with its own <paramref name="writeBase"/>
    /// writes rows no earlier run against the same database wrote (an ingest of duplicates would be cheaper and
    /// would not grow the filters).
    /// </summary>
    public GroundTruth(WorkloadModel model, TimeSpan coherenceWindow, TimeProvider timeProvider, long writeBase = 0)
    {
        _model = model;
        _writeBase = writeBase;
        TimeProvider = timeProvider;
        _coherenceTicks = (long)(coherenceWindow.TotalSeconds * timeProvider.TimestampFrequency);
    }

    /// <summary>The clock of acknowledgement and check times.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The model.</summary>
    public WorkloadModel Model => _model;

    /// <summary>Rows acknowledged during the run.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Users with at least one write in flight or acknowledged.</summary>
    public IEnumerable<ulong> WrittenUsers => _ledgers.Keys;

    /// <summary>Fresh ids for a write to <paramref name="userId"/> (never used before, never offered as unread).</summary>
    public void AllocateWriteIds(ulong userId, Span<ulong> ids)
    {
        var ledger = _ledgers.GetOrAdd(userId, static (_, first) => new UserLedger(first), _model.HistorySize(_model.RankOf(userId)) + _writeBase);
        var first = Interlocked.Add(ref ledger.NextIndex, ids.Length) - ids.Length;
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = _model.ReadId(userId, first + i);
        }
    }

    /// <summary>Records that the target acknowledged <paramref name="ids"/> for <paramref name="userId"/> in <paramref name="session"/>.</summary>
    public void Acknowledge(ulong userId, int session, ReadOnlySpan<ulong> ids)
    {
        var now = TimeProvider.GetTimestamp();
        var ledger = _ledgers[userId];
        lock (ledger)
        {
            foreach (var id in ids)
            {
                ledger.Writes.Add(new AcknowledgedWrite(id, now, session));
            }
        }

        Interlocked.Add(ref _acknowledged, ids.Length);
    }

    /// <summary>
    /// Fills <paramref name="ids"/> with a check's candidates for <paramref name="userId"/> seen from
    /// <paramref name="session"/>, and <paramref name="expected"/> with their truth: about ReadShare of them read
    /// (recent acknowledged writes first, then preloaded rows), the rest never written.
    /// </summary>
    public void BuildCandidates(ulong userId, int session, ref SplitMix rng, Span<ulong> ids, Span<Expectation> expected)
    {
        var now = TimeProvider.GetTimestamp();
        var size = _model.HistorySize(_model.RankOf(userId));
        var wantRead = (int)Math.Round(_model.Options.ReadShare * ids.Length);
        var n = 0;
        if (_ledgers.TryGetValue(userId, out var ledger))
        {
            lock (ledger)
            {
                var writes = ledger.Writes;
                for (var i = writes.Count - 1; i >= 0 && n < Math.Min(wantRead, RecentWritesPerCheck); i--)
                {
                    var w = writes[i];
                    ids[n] = w.ContentId;
                    expected[n++] = w.Session == session ? Expectation.Read
                        : now - w.AcknowledgedAt >= _coherenceTicks ? Expectation.ReadOtherSession
                        : Expectation.Unsure;
                }
            }
        }

        var fromPreload = Math.Min(wantRead - n, size);
        for (var i = 0; i < fromPreload; i++)
        {
            ids[n] = _model.ReadId(userId, rng.NextBelow(size));
            expected[n++] = Expectation.Read;
        }

        while (n < ids.Length)
        {
            ids[n] = WorkloadModel.UnreadId(rng.Next());
            expected[n++] = Expectation.Unread;
        }
    }

    private sealed class UserLedger(long firstWrite)
    {
        public long NextIndex = firstWrite;

        public List<AcknowledgedWrite> Writes { get; } = [];
    }

    private readonly record struct AcknowledgedWrite(ulong ContentId, long AcknowledgedAt, int Session);
}
