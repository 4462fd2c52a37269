using System.IO.Pipelines;
using Grpc.Core;
using ReadHistory.Server.Hosting;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class GuardedRequestBodyTests
{
    [Fact]
    public async Task A_client_reset_ends_the_read_as_cancelled_with_an_exception_of_its_own_per_call()
    {
        var first = Reset();
        var second = Reset();

        var one = await Assert.ThrowsAsync<RpcException>(async () => await first.ReadAsync());
        var other = Assert.Throws<RpcException>(() => second.TryRead(out _));

        Assert.Equal(StatusCode.Cancelled, one.StatusCode);
        Assert.Equal(StatusCode.Cancelled, other.StatusCode);
        Assert.True(first.WasReset && second.WasReset);
        // Calls reset at once must not share one exception object: each throw would rewrite the other's stack trace.
        Assert.NotSame(one, other);
    }

    private static GuardedRequestBody Reset() => new(new ResetReader(), Timeout.InfiniteTimeSpan, TimeProvider.System);

    // A request body whose client went away: every read throws the I/O error Kestrel throws for a reset stream.
    private sealed class ResetReader : PipeReader
    {
        public override void AdvanceTo(SequencePosition consumed)
        {
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
        }

        public override void CancelPendingRead()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromException<ReadResult>(new IOException("The client reset the request stream."));

        public override bool TryRead(out ReadResult result) => throw new IOException("The client reset the request stream.");
    }
}
