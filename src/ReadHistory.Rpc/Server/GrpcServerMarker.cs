namespace ReadHistory.Rpc.Server;

/// <summary>Proves <see cref="GrpcServiceCollectionExtensions.AddGrpcServer"/> ran, and remembers whether the catch-all route is mapped.</summary>
internal sealed class GrpcServerMarker
{
    private int _catchAllMapped;

    /// <summary>True the first time only.</summary>
    public bool TryClaimCatchAll() => Interlocked.Exchange(ref _catchAllMapped, 1) == 0;
}
