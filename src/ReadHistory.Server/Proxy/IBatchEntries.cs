using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// A BatchCheck as <see cref="ProxyBackend"/>'s fan-out sees it, decoded (<see cref="DecodedBatch"/>) or kept as bytes
/// (<see cref="ForwardedBatch"/>): the entries' routing fields, their outcomes, and how one slot's share is sent.
/// The grouping by slot, the tenant checks and the failure of a slot's entries are the backend's, shared by both.
/// </summary>
internal interface IBatchEntries
{
    /// <summary>The request's own tenant (the call is admitted under it).</summary>
    string Tenant { get; }

    /// <summary>The number of entries.</summary>
    int Count { get; }

    /// <summary>Whether entry <paramref name="index"/> already has its outcome (it failed validation).</summary>
    bool IsAnswered(int index);

    /// <summary>Entry <paramref name="index"/>'s tenant: its own, or the request's when it names none.</summary>
    string TenantOf(int index);

    /// <summary>Entry <paramref name="index"/>'s user.</summary>
    ulong UserOf(int index);

    /// <summary>Entry <paramref name="index"/>'s number of content ids.</summary>
    int IdsOf(int index);

    /// <summary>Gives entry <paramref name="index"/> a failed outcome with this status.</summary>
    void Fail(int index, StatusCode code, string message);

    /// <summary>
    /// Sends the entries <paramref name="members"/> (in request order) to <paramref name="slot"/> as one internal
    /// BatchCheck through the backend's failover walk, gives the first ones the node's results in order, and returns how
    /// many results the node answered. A failed walk throws its <see cref="RpcException"/>.
    /// </summary>
    Task<int> CheckSlotAsync(ProxyBackend backend, SlotRoute slot, List<int> members, DateTime deadline, CancellationToken cancellationToken);
}
