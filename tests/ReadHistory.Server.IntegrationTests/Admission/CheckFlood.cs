using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Admission;

/// <summary>Concurrent loops of 400-id Checks until stopped, counting answers and refusals (each refusal's trailer checked).</summary>
internal sealed class CheckFlood
{
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stop = new();
    private long _answered;
    private long _refused;
    private long _refusedWithoutHint;
    private long _otherFailures;
    private string? _firstRefusal;
    private string? _firstOtherFailure;

    public long Answered => Interlocked.Read(ref _answered);

    public long Refused => Interlocked.Read(ref _refused);

    public long RefusedWithoutHint => Interlocked.Read(ref _refusedWithoutHint);

    public long OtherFailures => Interlocked.Read(ref _otherFailures);

    public string? FirstRefusal => _firstRefusal;

    public string? FirstOtherFailure => _firstOtherFailure;

    /// <summary>Starts <paramref name="loops"/> loops calling Check through <paramref name="invoker"/>.</summary>
    public static CheckFlood Start(CallInvoker invoker, int loops)
    {
        var flood = new CheckFlood();
        for (var i = 0; i < loops; i++)
        {
            var user = (ulong)(1000 + i);
            flood._loops.Add(Task.Run(() => flood.LoopAsync(new ReadHistoryClient(invoker), user)));
        }

        return flood;
    }

    /// <summary>Stops the loops and waits for them.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(60));
        _stop.Dispose();
    }

    private async Task LoopAsync(ReadHistoryClient client, ulong user)
    {
        var request = new CheckRequest { UserId = user };
        for (var id = 1UL; id <= 400; id++)
        {
            request.ContentIds.Add(id);
        }

        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await client.CheckAsync(request, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;
                Interlocked.Increment(ref _answered);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                Interlocked.Increment(ref _refused);
                Interlocked.CompareExchange(ref _firstRefusal, e.Status.Detail, null);
                if (e.Trailers.GetValue("retry-after-ms") is not { Length: > 0 })
                {
                    Interlocked.Increment(ref _refusedWithoutHint);
                }
            }
            catch (RpcException e)
            {
                Interlocked.Increment(ref _otherFailures);
                Interlocked.CompareExchange(ref _firstOtherFailure, e.ToString(), null);
            }
        }
    }
}
