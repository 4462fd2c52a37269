namespace ReadHistory.Rpc;

/// <summary>A call state made of delegates, for the public constructors that fakes and tests use.</summary>
internal sealed class DelegateCallState(Task<Metadata> responseHeadersAsync, Func<Status> getStatus, Func<Metadata> getTrailers, Action dispose) : IClientCallState
{
    public Task<Metadata> ResponseHeadersAsync => responseHeadersAsync;

    public Status GetStatus() => getStatus();

    public Metadata GetTrailers() => getTrailers();

    public void Dispose() => dispose();
}
