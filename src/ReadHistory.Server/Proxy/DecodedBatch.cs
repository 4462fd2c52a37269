using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;

using ReadHistory.Server.Api.Admission;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// A decoded BatchCheck and its results (null until answered) for <see cref="ProxyBackend"/>'s fan-out: each slot's
/// share is sent as a generated CacheBatchCheckRequest and the node's UserCheckResults are taken as they are.
/// The entries' tenants were already set to the request's where they named none (<c>ReadHistoryService.BatchCheck</c>).
/// </summary>
internal readonly struct DecodedBatch(BatchCheckRequest request, UserCheckResult?[] results) : IBatchEntries
{
    /// <inheritdoc />
    public string Tenant => request.Tenant;

    /// <inheritdoc />
    public int Count => results.Length;

    /// <inheritdoc />
    public bool IsAnswered(int index) => results[index] is not null;

    /// <inheritdoc />
    public string TenantOf(int index) => request.Requests[index].Tenant;

    /// <inheritdoc />
    public ulong UserOf(int index) => request.Requests[index].UserId;

    /// <inheritdoc />
    public int IdsOf(int index) => request.Requests[index].ContentIds.Count;

    /// <inheritdoc />
    public void Fail(int index, StatusCode code, string message) =>
        results[index] = new UserCheckResult { StatusCode = (int)code, StatusMessage = message };

    /// <inheritdoc />
    public async Task<int> CheckSlotAsync(ProxyBackend backend, SlotRoute slot, List<int> members, DateTime deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(members);
        var part = new BatchCheckRequest { Tenant = request.Tenant };
        foreach (var i in members)
        {
            part.Requests.Add(request.Requests[i]);
        }

        var response = await backend.RouteAsync(CallClass.Batch, static (c, r, o) => c.BatchCheckAsync(r, o), new CacheBatchCheckRequest { Request = part }, ProxyBackend.BatchPassthrough, slot, request.Requests[members[0]].UserId, deadline, cancellationToken).ConfigureAwait(false);
        for (var k = 0; k < members.Count && k < response.Results.Count; k++)
        {
            results[members[k]] = response.Results[k];
        }

        return response.Results.Count;
    }
}
