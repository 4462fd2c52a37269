using Xunit;
using ReadHistory.LoadGen.Model;

namespace ReadHistory.LoadGen.Tests;

public sealed class WorkloadModelTests
{
    [Fact]
    public void Zipf_rank_frequencies_match_their_probabilities()
    {
        var zipf = new ZipfSampler(10_000, 0.99);
        var rng = new SplitMix(3, 1, 0);
        var counts = new int[10_000];
        const int draws = 1_000_000;
        for (var i = 0; i < draws; i++)
        {
            counts[zipf.Sample(rng.NextUnit())]++;
        }

        foreach (var rank in new[] { 0, 1, 2, 9, 99 })
        {
            var expected = zipf.Probability(rank) * draws;
            var sigma = Math.Sqrt(expected);
            Assert.InRange(counts[rank], expected - (6 * sigma), expected + (6 * sigma));
        }

        // rank 0 over rank 9 follows (10 / 1)^s
        Assert.InRange((double)counts[0] / counts[9], Math.Pow(10, 0.99) * 0.9, Math.Pow(10, 0.99) * 1.1);
    }

    [Fact]
    public void History_sizes_follow_the_bounded_pareto_quantiles()
    {
        var model = new WorkloadModel(new WorkloadOptions { Users = 200_000, HeavyShare = 0 });
        var sizes = Enumerable.Range(0, model.Options.Users).Select(model.HistorySize).Order().ToArray();
        foreach (var q in new[] { 0.5, 0.9, 0.99 })
        {
            var expected = model.Sizes.Quantile(q);
            var observed = sizes[(int)(q * sizes.Length)];
            Assert.InRange(observed, expected * 0.9 - 1, expected * 1.1 + 1);
        }

        Assert.InRange(sizes.Average(), model.Sizes.Mean * 0.8, model.Sizes.Mean * 1.2); // the tail makes the mean noisy
        Assert.True(sizes[0] >= model.Options.HistoryMin && sizes[^1] <= model.Options.HistoryMax);
    }

    [Fact]
    public void Heavy_users_have_exactly_the_maximum_history()
    {
        var model = new WorkloadModel(new WorkloadOptions { Users = 100_000, HeavyShare = 0.001 });
        var heavy = Enumerable.Range(0, model.Options.Users).Count(r => model.HistorySize(r) == model.Options.HistoryMax);
        Assert.InRange(heavy, 60, 140);
    }

    [Fact]
    public void Read_ids_are_odd_and_unread_ids_even_so_truth_needs_no_lookup()
    {
        var model = new WorkloadModel(new WorkloadOptions { Users = 10 });
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(1UL, model.ReadId(model.UserId(3), i) & 1);
            Assert.Equal(0UL, WorkloadModel.UnreadId((ulong)i * 0x9e3779b97f4a7c15UL) & 1);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_world_and_another_seed_another()
    {
        var a = new WorkloadModel(new WorkloadOptions { Users = 1000, Seed = 5 });
        var b = new WorkloadModel(new WorkloadOptions { Users = 1000, Seed = 5 });
        var c = new WorkloadModel(new WorkloadOptions { Users = 1000, Seed = 6 });
        Assert.Equal(a.TotalRows(), b.TotalRows());
        Assert.Equal(a.ReadId(a.UserId(7), 3), b.ReadId(b.UserId(7), 3));
        Assert.NotEqual(a.ReadId(a.UserId(7), 3), c.ReadId(c.UserId(7), 3));
        Assert.Equal(new SessionTable(a).UserOf(4, 9), new SessionTable(b).UserOf(4, 9));
    }
}
