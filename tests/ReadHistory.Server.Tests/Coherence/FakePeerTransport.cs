using System.Threading.Channels;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Coherence;

namespace ReadHistory.Server.Tests.Coherence;

/// <summary>
/// A peer that records every ApplyChanges call (decoded from the sender's bytes, which are reused after the call) and
/// answers each one only when the test says so.
/// </summary>
internal sealed class FakePeerTransport : PeerTransport
{
    private readonly Channel<Call> _calls = Channel.CreateUnbounded<Call>();

    /// <summary>Calls started, in order.</summary>
    public int Started { get; private set; }

    /// <summary>The next call the sender makes (waits for it, bounded by the caller's timeout).</summary>
    public ValueTask<Call> NextCallAsync(CancellationToken cancellationToken = default) => _calls.Reader.ReadAsync(cancellationToken);

    /// <summary>True when a call was made that the test has not taken yet.</summary>
    public bool HasPendingCall => _calls.Reader.Count > 0;

    /// <inheritdoc />
    public override Task SendAsync(EncodedChanges request, DateTime deadline, CancellationToken cancellationToken)
    {
        var call = new Call(ApplyChangesRequest.Parser.ParseFrom(request.Bytes.Span), deadline);
        Started++;
        _calls.Writer.TryWrite(call);
        return call.Answer.Task.WaitAsync(cancellationToken);
    }

    /// <summary>One call: what was sent and how the test answers it.</summary>
    internal sealed class Call(ApplyChangesRequest request, DateTime deadline)
    {
        public ApplyChangesRequest Request { get; } = request;

        public DateTime Deadline { get; } = deadline;

        public TaskCompletionSource Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Changes => Request.Changes.Sum(c => c.ContentIds.Count + (c.DeleteUser ? 1 : 0));
    }
}
