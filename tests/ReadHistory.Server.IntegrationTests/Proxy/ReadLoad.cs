using ReadHistory.Api.V1;
using Grpc.Core;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>A bounded read load through the proxy: users 1..Users each marked read of content 1000 + user; every answer is checked.</summary>
internal sealed class ReadLoad
{
    public const int Users = 40;

    private readonly List<string> _failures = [];
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_failures)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>Writes the reads the load expects to see.</summary>
    public static async Task SeedAsync(CallInvoker invoker)
    {
        for (var user = 1UL; user <= Users; user++)
        {
            var mark = new MarkReadRequest { UserId = user, Items = { new ReadItem { ContentId = 1000 + user } } };
            await new ReadHistoryClient(invoker).MarkReadAsync(mark, ProxyCluster.Within(5000)).ResponseAsync.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Runs <paramref name="workers"/> loops until <paramref name="stop"/> fires or each made <paramref name="maxCalls"/> calls; each call has <paramref name="deadlineMs"/>.</summary>
    public Task RunAsync(CallInvoker invoker, int workers, int maxCalls, int deadlineMs, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkerAsync(invoker, w, maxCalls, deadlineMs, stop))));

    private async Task WorkerAsync(CallInvoker invoker, int worker, int maxCalls, int deadlineMs, CancellationToken stop)
    {
        for (var i = 0; i < maxCalls && !stop.IsCancellationRequested; i++)
        {
            var user = (ulong)(((worker * 7919) + i) % Users) + 1;
            var check = new CheckRequest { UserId = user, ContentIds = { 1000 + user, 5 }, SessionId = $"s{worker}-{i % 16}" };
            try
            {
                var answer = await new ReadHistoryClient(invoker).CheckAsync(check, ProxyCluster.Within(deadlineMs)).ResponseAsync.ConfigureAwait(false);
                if (answer.ReadBitmap.Length != 1 || answer.ReadBitmap[0] != 0b01)
                {
                    Fail($"user {user}: bitmap {Convert.ToHexString(answer.ReadBitmap.ToByteArray())} from {answer.Source}");
                }
            }
            catch (RpcException e)
            {
                Fail($"user {user}: {e.StatusCode} {e.Status.Detail}");
            }

            Interlocked.Increment(ref _reads);
        }
    }

    private void Fail(string failure)
    {
        lock (_failures)
        {
            _failures.Add(failure);
        }
    }
}
