namespace ReadHistory.Rpc;

/// <summary>What the call objects ask of a running call: headers, final status and trailers, and how to abort it.</summary>
internal interface IClientCallState : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    Status GetStatus();

    Metadata GetTrailers();
}
