using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Api;

public sealed class PipelinedIngestTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Writes_start_without_waiting_for_the_ones_before_and_the_count_waits_for_all_in_any_order()
    {
        var backend = new GatedBackend();
        await using var sink = new PipelinedIngest(backend, TestServerCallContext.Create(), maxRowsInFlight: 100);
        for (ulong user = 1; user <= 5; user++)
        {
            await sink.AddAsync(Batch(user, 2)).AsTask().DefaultTimeout();
        }

        Assert.Equal(5, backend.Started);
        Assert.Equal(10, sink.RowsInFlight);
        var complete = sink.CompleteAsync();
        for (var i = 4; i >= 1; i--)
        {
            backend.Finish(i);
        }

        Assert.False(complete.IsCompleted);
        backend.Finish(0);
        var response = await complete.DefaultTimeout();
        Assert.Equal(10ul, response.Accepted);
        Assert.Equal(0, sink.RowsInFlight);
    }

    [Fact]
    public async Task Past_the_bound_the_next_message_waits_until_the_oldest_write_is_done()
    {
        var backend = new GatedBackend();
        await using var sink = new PipelinedIngest(backend, TestServerCallContext.Create(), maxRowsInFlight: 5);
        await sink.AddAsync(Batch(1, 3)).AsTask().DefaultTimeout();
        await sink.AddAsync(Batch(2, 2)).AsTask().DefaultTimeout();
        var third = sink.AddAsync(Batch(3, 1)).AsTask();

        Assert.False(third.IsCompleted);
        Assert.Equal(2, backend.Started);
        Assert.Equal(5, sink.RowsInFlight);
        backend.Finish(0);
        await third.DefaultTimeout();
        Assert.Equal(3, backend.Started);
        Assert.Equal(3, sink.RowsInFlight);
        backend.Finish(1);
        backend.Finish(2);
        Assert.Equal(6ul, (await sink.CompleteAsync().DefaultTimeout()).Accepted);
    }

    [Fact]
    public async Task A_message_larger_than_the_bound_goes_alone()
    {
        var backend = new GatedBackend();
        await using var sink = new PipelinedIngest(backend, TestServerCallContext.Create(), maxRowsInFlight: 2);
        await sink.AddAsync(Batch(1, 1)).AsTask().DefaultTimeout();
        var large = sink.AddAsync(Batch(2, 4)).AsTask();
        Assert.False(large.IsCompleted);
        backend.Finish(0);
        await large.DefaultTimeout();
        Assert.Equal(4, sink.RowsInFlight);
        backend.Finish(1);
        Assert.Equal(5ul, (await sink.CompleteAsync().DefaultTimeout()).Accepted);
    }

    [Fact]
    public async Task A_failed_write_fails_the_stream_and_the_other_writes_are_still_awaited()
    {
        var backend = new GatedBackend();
        var sink = new PipelinedIngest(backend, TestServerCallContext.Create(), maxRowsInFlight: 100);
        await sink.AddAsync(Batch(1, 1)).AsTask().DefaultTimeout();
        await sink.AddAsync(Batch(2, 1)).AsTask().DefaultTimeout();
        backend.Fail(0, new RpcException(new Status(StatusCode.Unavailable, "database write failed")));

        var error = await Assert.ThrowsAsync<RpcException>(() => sink.AddAsync(Batch(3, 1)).AsTask()).DefaultTimeout();
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        var disposed = sink.DisposeAsync().AsTask();
        Assert.False(disposed.IsCompleted);
        backend.Fail(1, new RpcException(new Status(StatusCode.Unavailable, "database write failed")));
        await disposed.DefaultTimeout();
        Assert.Equal(2, backend.Started);
    }

    [Fact]
    public async Task The_service_counts_invalid_messages_between_pipelined_valid_ones()
    {
        var backend = new GatedBackend { FinishAtOnce = true };
        var service = new ReadHistoryService(new RequestValidator(ShippedDefaults.Limits(), new ManualTimeProvider(Now)), backend);
        var stream = new ListReader<IngestRequest>(
        [
            new IngestRequest { Batch = Batch(1, 2) },
            new IngestRequest { Batch = Batch(0, 3) },
            new IngestRequest(),
            new IngestRequest { Batch = Batch(2, 1) },
        ]);

        var response = await service.Ingest(stream, TestServerCallContext.Create()).DefaultTimeout();

        Assert.Equal(3ul, response.Accepted);
        Assert.Equal(3ul, response.Rejected);
        Assert.StartsWith("user_id:", response.FirstError, StringComparison.Ordinal);
        Assert.Equal(2, backend.Started);
    }

    private static MarkReadRequest Batch(ulong user, int items)
    {
        var batch = new MarkReadRequest { UserId = user };
        for (var i = 0; i < items; i++)
        {
            batch.Items.Add(new ReadItem { ContentId = (ulong)i + 1 });
        }

        return batch;
    }

    private sealed class GatedBackend : IReadHistoryBackend
    {
        private readonly List<TaskCompletionSource<int>> _writes = [];

        public bool FinishAtOnce { get; init; }

        public int Started => _writes.Count;

        public Task<AnswerSource> CheckAsync(CheckRequest request, Memory<byte> readBitmap, ServerCallContext context) => throw new NotSupportedException();

        public Task<int> MarkReadAsync(MarkReadRequest request, ServerCallContext context)
        {
            var write = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            _writes.Add(write);
            if (FinishAtOnce)
            {
                write.SetResult(request.Items.Count);
            }

            return write.Task;
        }

        public Task<long> ForgetUserAsync(ForgetUserRequest request, ServerCallContext context) => throw new NotSupportedException();

        public void Finish(int index) => _writes[index].SetResult(1);

        public void Fail(int index, Exception error) => _writes[index].SetException(error);
    }

    private sealed class ListReader<T>(IReadOnlyList<T> messages) : IAsyncStreamReader<T>
    {
        private int _next = -1;

        public T Current => messages[_next];

        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_next < messages.Count);
    }
}
