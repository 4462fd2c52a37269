using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class FalsePositiveVerifierTests
{
    private const ulong User = 7;

    [Fact]
    public async Task Ids_called_read_that_the_database_does_not_hold_are_false_positives_and_ids_called_unread_are_negatives()
    {
        var source = new InMemoryHistorySource();
        // Stored: the even ids. The answer below calls 1..4 read and 5..8 unread, so the odd ids of 1..4 are false positives.
        foreach (var id in new ulong[] { 2, 4, 6, 8 })
        {
            source.Seed(User, 0, id);
        }

        await using var verifier = Verifier(source, idsPerSample: 64);
        ulong[] ids = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] answer = [0b0000_1111];
        for (var i = 0; i < 50; i++)
        {
            verifier.Offer(User, 0, ids, answer);
        }

        var drawn = 50 * 64;
        await Poll.UntilAsync(() => Measured(verifier) == drawn, "every sample to be verified");
        // Draws: 1/8 each id. Negatives: 5..8 (half) plus the false positives 1 and 3 (a quarter); verified reads 2, 4.
        Assert.Equal(drawn, verifier.Negatives + Verified(verifier));
        Assert.InRange(verifier.MeasuredRate, (0.25 / 0.75) - 0.08, (0.25 / 0.75) + 0.08);
        Assert.InRange(verifier.FalsePositives, 1, verifier.Negatives - 1);
    }

    [Fact]
    public async Task A_filter_that_answers_exactly_the_stored_ids_measures_zero()
    {
        var source = new InMemoryHistorySource();
        source.Seed(User, 3, 10);
        source.Seed(User, 3, 30);
        await using var verifier = Verifier(source, idsPerSample: 32);
        ulong[] ids = [10, 20, 30, 40];
        byte[] answer = [0b0101];
        for (var i = 0; i < 20; i++)
        {
            verifier.Offer(User, 3, ids, answer);
        }

        await Poll.UntilAsync(() => Measured(verifier) == 20 * 32, "every sample to be verified");
        Assert.Equal(0, verifier.FalsePositives);
        Assert.Equal(0, verifier.MeasuredRate);
        Assert.True(verifier.Negatives > 0);
    }

    [Fact]
    public async Task A_check_drawn_past_the_query_budget_is_skipped_whole_negatives_included()
    {
        var source = new InMemoryHistorySource();
        var registry = Metrics.NewCustomRegistry();
        await using var verifier = Verifier(source, idsPerSample: 8, queriesPerSecond: 1, registry: registry);
        ulong[] ids = [1, 2];
        byte[] unreadOnly = [0];

        verifier.Offer(User, 0, ids, unreadOnly);
        verifier.Offer(User, 0, ids, unreadOnly);

        // The first Check spent the second's budget: only its 8 draws count, though neither needed a query.
        Assert.Equal(8, verifier.Negatives);
        Assert.Equal(1, Skipped(registry, "budget"));
    }

    [Fact]
    public async Task A_sample_whose_user_left_memory_before_its_query_returned_is_discarded()
    {
        var source = new InMemoryHistorySource();
        var registry = Metrics.NewCustomRegistry();
        await using var verifier = new FalsePositiveVerifier("feed", 0.01, Options(16, 1000), source, static _ => false, NullLogger.Instance, registry);
        verifier.Offer(User, 0, [1, 2], [0b11]);

        await Poll.UntilAsync(() => Skipped(registry, "discarded") == 1, "the sample to be discarded");
        Assert.Equal(0, verifier.Negatives);
        Assert.Equal(0, verifier.FalsePositives);
    }

    [Fact]
    public async Task The_verifier_measures_what_a_real_filter_answers_against_the_truth()
    {
        // A filter sized for a 20 % rate and a cache check loop over never-written ids: the verifier's measured rate
        // must match the rate the test counts itself (the ground truth), within sampling error.
        var source = new InMemoryHistorySource();
        var filter = UserFilter.Create(2000, new BloomFilterOptions { TargetFalsePositiveRate = 0.2, Headroom = 0 });
        for (ulong id = 1; id <= 2000; id++)
        {
            source.Seed(User, 0, id);
            filter.Add(0, id);
        }

        await using var verifier = Verifier(source, idsPerSample: 64, queriesPerSecond: 10_000);
        long negatives = 0;
        long falsePositives = 0;
        var random = new Random(5);
        var ids = new ulong[256];
        var bitmap = new byte[32];
        for (var check = 0; check < 200; check++)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                // Half stored ids, half never written.
                ids[i] = random.Next(2) == 0 ? (ulong)random.Next(1, 2001) : 1_000_000 + (ulong)random.NextInt64(1, long.MaxValue / 2);
            }

            filter.CheckMany(0, ids, bitmap);
            for (var i = 0; i < ids.Length; i++)
            {
                if (ids[i] > 2000)
                {
                    negatives++;
                    falsePositives += (bitmap[i >> 3] >> (i & 7)) & 1;
                }
            }

            verifier.Offer(User, 0, ids, bitmap);
        }

        await Poll.UntilAsync(() => Measured(verifier) == 200 * 64, "every sample to be verified");
        var truth = falsePositives / (double)negatives;
        var sigma = Math.Sqrt(truth * (1 - truth) / verifier.Negatives);
        Assert.InRange(truth, 0.05, 0.5);
        Assert.InRange(verifier.MeasuredRate, truth - (6 * sigma), truth + (6 * sigma));
    }

    private static FalsePositiveVerifier Verifier(InMemoryHistorySource source, int idsPerSample, double queriesPerSecond = 100_000, CollectorRegistry? registry = null) =>
        new("feed", 0.01, Options(idsPerSample, queriesPerSecond), source, static _ => true, NullLogger.Instance, registry ?? Metrics.NewCustomRegistry());

    private static FalsePositiveVerifierOptions Options(int idsPerSample, double queriesPerSecond) =>
        new() { SampleFraction = 1, IdsPerSample = idsPerSample, QueriesPerSecond = queriesPerSecond, QueueLength = 1024 };

    // Draws accounted for: negatives (false positives among them) plus verified reads.
    private static long Measured(FalsePositiveVerifier verifier) => verifier.Negatives + Verified(verifier);

    private static long Verified(FalsePositiveVerifier verifier) => verifier.VerifiedReads;

    private static double Skipped(CollectorRegistry registry, string reason) =>
        Metrics.WithCustomRegistry(registry).CreateCounter("readhistory_cache_fpr_samples_skipped_total", string.Empty, "pool", "reason").WithLabels("feed", reason).Value;
}
