using System.Diagnostics;

namespace ReadHistory.TestSupport;

/// <summary>
/// The one way tests wait for a condition the code under test offers no gate for (a counter behind a host, a view that
/// converges through another process): evaluate it every few milliseconds and, once the bound has passed, fail with a
/// <see cref="TimeoutException"/> that names what was awaited. Measured with a <see cref="Stopwatch"/>, never the wall clock.
/// </summary>
public static class Poll
{
    // Short enough that a wait on an in-memory counter costs the test nothing, long enough that polling a host over
    // loopback gRPC or HTTP stays a small share of a core.
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    /// <summary>Waits until <paramref name="condition"/> holds; throws TimeoutException naming <paramref name="what"/> past <paramref name="timeout"/> (default <see cref="TestTimeout.Default"/>).</summary>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Waits until <paramref name="condition"/> holds; throws TimeoutException naming <paramref name="what"/> past <paramref name="timeout"/> (default <see cref="TestTimeout.Default"/>).</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        PollAsync(condition, static done => done, what, timeout, describeLast: false);

    /// <summary>
    /// Reads <paramref name="probe"/> until <paramref name="done"/> holds for what it returned, and returns that value;
    /// throws TimeoutException naming <paramref name="what"/> and the last value past <paramref name="timeout"/> (default <see cref="TestTimeout.Default"/>).
    /// </summary>
    public static Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null) =>
        PollAsync(probe, done, what, timeout, describeLast: true);

    private static async Task<T> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout, bool describeLast)
    {
        var limit = timeout ?? TestTimeout.Default;
        var clock = Stopwatch.StartNew();
        var last = "none";
        while (true)
        {
            var left = limit - clock.Elapsed;
            if (left > TimeSpan.Zero)
            {
                T value;
                try
                {
                    // One evaluation may not outlive the bound either (a call to a host that stopped answering).
                    value = await probe().WaitAsync(left);
                }
                catch (TimeoutException)
                {
                    throw Expired(limit, what, describeLast ? last : null);
                }

                if (done(value))
                {
                    return value;
                }

                last = describeLast ? value?.ToString() ?? "null" : last;
            }

            if (clock.Elapsed >= limit)
            {
                throw Expired(limit, what, describeLast ? last : null);
            }

            await Task.Delay(Interval);
        }
    }

    private static TimeoutException Expired(TimeSpan limit, string what, string? last) =>
        new(FormattableString.Invariant($"waited {limit.TotalSeconds:0.#} s for {what}") + (last is null ? string.Empty : "; last seen: " + last));
}
