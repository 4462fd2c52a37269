using System.Threading.RateLimiting;
using Grpc.Core;

namespace ReadHistory.Server.Api.Admission;

/// <summary>
/// A client stream whose messages each hold one permit of their class: taken when <see cref="MoveNext"/> yields a
/// message, given back when the next is asked for or the call ends (<see cref="Dispose"/>). Refused, the stream ends
/// with the refusal; the messages before it were handled, as with any failure mid-stream.
/// </summary>
internal sealed class AdmittedStreamReader<T>(IAsyncStreamReader<T> inner, AdmissionControl admission, CallClass callClass) : IAsyncStreamReader<T>, IDisposable
{
    private RateLimitLease? _lease;

    /// <inheritdoc />
    public T Current => inner.Current;

    /// <inheritdoc />
    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        Release();
        if (!await inner.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        _lease = admission.Enter(callClass);
        return true;
    }

    /// <summary>Gives back the permit of the message read last.</summary>
    public void Dispose() => Release();

    private void Release() => Interlocked.Exchange(ref _lease, null)?.Dispose();
}
