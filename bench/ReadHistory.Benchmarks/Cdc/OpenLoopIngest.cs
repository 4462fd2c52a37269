using System.Diagnostics;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Benchmarks.Shared;
using Grpc.Core;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Benchmarks.Cdc;

/// <summary>
/// Offers MarkRead calls to a cache node on a fixed schedule (open loop: a slow answer does not slow the offered
/// rate, up to an in-flight cap), random users and ids, and interleaves marker writes for the lag probe.
/// </summary>
internal sealed class OpenLoopIngest(CallInvoker calls, int rowsPerSecond, int rowsPerCall, int markersPerSecond, CoherenceLagBench.MarkerProbe probe)
{
    private readonly SemaphoreSlim _inFlight = new(CoherenceLagBench.MaxInFlight);
    private readonly Random _random = new(42);
    private readonly List<double> _ackMs = [];
    private long _rows;
    private long _calls;
    private long _failed;
    private long _late;
    private long _nextMarkerId = 1L << 48;

    /// <summary>Rows acknowledged since the last reset.</summary>
    public long RowsAcknowledged => Interlocked.Read(ref _rows);

    /// <summary>Calls acknowledged since the last reset.</summary>
    public long CallsAcknowledged => Interlocked.Read(ref _calls);

    /// <summary>Calls that failed since the last reset.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Calls that waited for the in-flight cap since the last reset.</summary>
    public long Late => Interlocked.Read(ref _late);

    /// <summary>A quantile of the acknowledgement latency of load calls since the last reset, in ms.</summary>
    public double AckMs(double q)
    {
        lock (_ackMs)
        {
            if (_ackMs.Count == 0)
            {
                return double.NaN;
            }

            _ackMs.Sort();
            return _ackMs[(int)Math.Min(_ackMs.Count - 1, q * _ackMs.Count)];
        }
    }

    /// <summary>Clears the counters (after the warm-up).</summary>
    public void ResetCounters()
    {
        Interlocked.Exchange(ref _rows, 0);
        Interlocked.Exchange(ref _calls, 0);
        Interlocked.Exchange(ref _failed, 0);
        Interlocked.Exchange(ref _late, 0);
        lock (_ackMs)
        {
            _ackMs.Clear();
        }
    }

    /// <summary>Offers load for <paramref name="duration"/>, then waits for the calls in flight; returns the seconds elapsed.</summary>
    public async Task<double> RunAsync(TimeSpan duration)
    {
        var callsPerSecond = rowsPerSecond / (double)rowsPerCall;
        var started = Stopwatch.GetTimestamp();
        long issued = 0;
        long markers = 0;
        var running = new List<Task>();
        while (true)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed >= duration)
            {
                break;
            }

            var due = (long)(elapsed.TotalSeconds * callsPerSecond);
            for (; issued < due; issued++)
            {
                if (!_inFlight.Wait(0))
                {
                    Interlocked.Increment(ref _late);
                    await _inFlight.WaitAsync();
                }

                running.Add(LoadCallAsync());
            }

            var markersDue = (long)(elapsed.TotalSeconds * markersPerSecond);
            for (; markers < markersDue; markers++)
            {
                running.Add(MarkerCallAsync());
            }

            if (running.Count > 4096)
            {
                running.RemoveAll(static t => t.IsCompleted);
            }

            await Task.Delay(1);
        }

        await Task.WhenAll(running);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private async Task LoadCallAsync()
    {
        var request = new MarkReadRequest { UserId = (ulong)_random.NextInt64(1, 5_000_000) };
        for (var i = 0; i < rowsPerCall; i++)
        {
            request.Items.Add(new ReadItem { ContentId = (ulong)_random.NextInt64(1, 1L << 40) });
        }

        var sent = Stopwatch.GetTimestamp();
        try
        {
            await new CacheNodeClient(calls).MarkReadAsync(new CacheMarkReadRequest { Request = request }, BenchHost.Within(30_000)).ResponseAsync;
            Interlocked.Add(ref _rows, rowsPerCall);
            Interlocked.Increment(ref _calls);
            var ms = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            lock (_ackMs)
            {
                _ackMs.Add(ms);
            }
        }
        catch (RpcException)
        {
            Interlocked.Increment(ref _failed);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task MarkerCallAsync()
    {
        var first = (ulong)Interlocked.Add(ref _nextMarkerId, 2);
        var marker = new CoherenceLagBench.Marker(CoherenceLagBench.MarkerUserBase + (ulong)_random.Next(CoherenceLagBench.MarkerUsers), first, Stopwatch.GetTimestamp());
        var request = new MarkReadRequest { UserId = marker.UserId };
        foreach (var id in marker.Ids)
        {
            request.Items.Add(new ReadItem { ContentId = id });
        }

        probe.Add(marker);
        try
        {
            await new CacheNodeClient(calls).MarkReadAsync(new CacheMarkReadRequest { Request = request }, BenchHost.Within(30_000)).ResponseAsync;
            marker.AckTicks = Stopwatch.GetTimestamp();
        }
        catch (RpcException)
        {
            Interlocked.Increment(ref _failed);
        }
    }
}
