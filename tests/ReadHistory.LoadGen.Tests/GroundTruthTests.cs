using Xunit;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Truth;
using ReadHistory.TestSupport;

namespace ReadHistory.LoadGen.Tests;

public sealed class GroundTruthTests
{
    private static readonly WorkloadModel Model = new(new WorkloadOptions { Users = 1000, HistoryMin = 2000, HistoryMax = 3000, HeavyShare = 0 });

    [Fact]
    public void Candidates_carry_the_read_share()
    {
        var truth = new GroundTruth(Model, TimeSpan.FromSeconds(1), new ManualTimeProvider());
        var ids = new ulong[400];
        var expected = new Expectation[400];
        var rng = new SplitMix(1, 2, 3);
        truth.BuildCandidates(Model.UserId(5), 0, ref rng, ids, expected);
        Assert.Equal(120, expected.Count(e => e == Expectation.Read));
        Assert.Equal(280, expected.Count(e => e == Expectation.Unread));
        Assert.All(ids.Zip(expected).Where(p => p.Second == Expectation.Read), p => Assert.Equal(1UL, p.First & 1));
    }

    [Fact]
    public void Runs_with_different_write_bases_write_ids_no_other_run_and_no_preload_has()
    {
        var user = Model.UserId(3);
        var preloaded = Enumerable.Range(0, Model.HistorySize(3)).Select(i => Model.ReadId(user, i)).ToHashSet();
        var first = new ulong[500];
        var second = new ulong[500];
        new GroundTruth(Model, TimeSpan.FromSeconds(1), new ManualTimeProvider(), writeBase: 1L << 16).AllocateWriteIds(user, first);
        new GroundTruth(Model, TimeSpan.FromSeconds(1), new ManualTimeProvider(), writeBase: 2L << 16).AllocateWriteIds(user, second);

        Assert.Empty(first.Intersect(second));
        Assert.DoesNotContain(first.Concat(second), preloaded.Contains);
        Assert.All(first.Concat(second), id => Assert.Equal(1UL, id & 1)); // read ids are odd
    }

    [Fact]
    public void A_response_that_drops_one_acknowledged_id_is_exactly_one_false_negative()
    {
        var clock = new ManualTimeProvider();
        var truth = new GroundTruth(Model, TimeSpan.FromSeconds(1), clock);
        var user = Model.UserId(9);
        var written = new ulong[5];
        truth.AllocateWriteIds(user, written);
        truth.Acknowledge(user, session: 2, written);

        var ids = new ulong[400];
        var expected = new Expectation[400];
        var rng = new SplitMix(1, 2, 4);
        truth.BuildCandidates(user, 2, ref rng, ids, expected);
        var answer = ids.Select((_, i) => expected[i] == Expectation.Read).ToArray(); // a perfect answer...
        answer[Array.IndexOf(ids, written[3])] = false;                                // ...that loses one acknowledged write

        var tally = new TruthTally();
        tally.Judge(expected, answer);
        Assert.Equal(1, tally.FalseNegatives);
        Assert.Equal(0, tally.FalsePositives);
    }

    [Fact]
    public void Another_session_is_judged_only_after_the_coherence_window()
    {
        var clock = new ManualTimeProvider();
        var truth = new GroundTruth(Model, TimeSpan.FromSeconds(1), clock);
        var user = Model.UserId(11);
        var written = new ulong[3];
        truth.AllocateWriteIds(user, written);
        truth.Acknowledge(user, session: 1, written);
        var ids = new ulong[400];
        var expected = new Expectation[400];
        var rng = new SplitMix(1, 2, 5);

        truth.BuildCandidates(user, 7, ref rng, ids, expected);
        Assert.Equal(3, expected.Count(e => e == Expectation.Unsure));

        clock.Advance(TimeSpan.FromSeconds(2));
        truth.BuildCandidates(user, 7, ref rng, ids, expected);
        Assert.Equal(3, expected.Count(e => e == Expectation.ReadOtherSession));
        var tally = new TruthTally();
        tally.Judge(expected, new bool[400]);
        Assert.Equal(3, tally.FalseNegativesOtherSession);
    }

    [Fact]
    public void An_even_id_reported_read_is_a_false_positive()
    {
        var tally = new TruthTally();
        tally.Judge(new[] { Expectation.Unread, Expectation.Unread, Expectation.Read, Expectation.Unread }, new[] { true, false, true, false });
        Assert.Equal(1, tally.FalsePositives);
        Assert.Equal(1.0 / 3, tally.FalsePositiveRate, 9);
    }
}
