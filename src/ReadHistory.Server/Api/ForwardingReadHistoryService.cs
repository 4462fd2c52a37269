using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Proxy;
using ReadHistoryBase = ReadHistory.Api.V1.ReadHistory.ReadHistoryBase;

namespace ReadHistory.Server.Api;

/// <summary>
/// The public ReadHistory service of a proxy that routes to remote cache nodes: Check, Filter, MarkRead and BatchCheck
/// are bound by <see cref="ForwardingMethodProvider"/> on bytes (validated from the fields read, then forwarded, the
/// nodes' answers relayed as they came); Ingest and ForgetUser are the decoding service's (<see cref="ReadHistoryService"/>).
/// Statuses and messages are the decoding path's: the same validator, the same routing.
/// </summary>
[BindServiceMethod(typeof(ForwardingReadHistoryService), nameof(BindService))]
internal sealed class ForwardingReadHistoryService(ReadHistoryService decoding, RequestValidator validator, ProxyBackend backend) : ReadHistoryBase
{
    private static readonly Func<(RequestValidator Validator, long Latest), int, ulong, long, string?> CheckItem =
        static (state, index, contentId, readAtMs) => state.Validator.ValidateItem(index, contentId, readAtMs, state.Latest);

    /// <summary>Binds the generated methods that are not forwarded, guarded as the decoding service's are.</summary>
    public static void BindService(ServiceBinderBase serviceBinder, ReadHistoryBase? serviceImpl) =>
        global::ReadHistory.Api.V1.ReadHistory.BindService(new MalformedRequestBinder(new SkipForwardedBinder(serviceBinder)), serviceImpl);

    /// <summary>Check or Filter on bytes: <paramref name="method"/> is the node's method the request goes to.</summary>
    public async Task<RelayedAnswer> CheckAsync(Method<ForwardedRequest, RelayedAnswer> method, ForwardedRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var error = request.Decoded is CheckRequest decoded
            ? validator.Validate(decoded)
            : validator.ValidateCheck(request.UserId, request.ContentType, request.Count, request.FirstZeroId, request.SessionId, request.Tenant);
        ThrowIfInvalid(request, error);
        return await backend.ForwardCheckAsync(method, request, context).ConfigureAwait(false);
    }

    /// <summary>MarkRead on bytes.</summary>
    public async Task<RelayedAnswer> MarkReadAsync(ForwardedRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var error = request.Decoded is MarkReadRequest decoded
            ? validator.Validate(decoded)
            : validator.ValidateMarkRead(request.UserId, request.ContentType, request.SessionId, request.Tenant, request.Count)
                ?? ForwardedRequestReader.ItemsError(request, (validator, validator.LatestReadAtMs()), CheckItem);
        ThrowIfInvalid(request, error);
        return await backend.ForwardMarkReadAsync(request, context).ConfigureAwait(false);
    }

    /// <summary>
    /// BatchCheck on bytes: refused whole, or each entry refused on its own, by the decoding path's rules (an entry
    /// naming no tenant takes the request's), then fanned out by slot. Bytes the reader did not follow take the decoding
    /// path whole (<see cref="ForwardedBatch.Decoded"/>).
    /// </summary>
    public async Task<ForwardedBatch> BatchCheckAsync(ForwardedBatch request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Decoded is BatchCheckRequest decoded)
        {
            request.DecodedAnswer = await decoding.BatchCheck(decoded, context).ConfigureAwait(false);
            return request;
        }

        if (validator.ValidateBatch(request.Count, request.Ids, request.Tenant) is { } error)
        {
            request.Release();
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }

        for (var i = 0; i < request.Count; i++)
        {
            var entry = request.FieldsOf(i);
            if (validator.ValidateEntry(entry.UserId, entry.ContentType, entry.Count, entry.FirstZeroId, request.TenantOf(i), i) is { } entryError)
            {
                request.Fail(i, StatusCode.InvalidArgument, entryError);
            }
        }

        await backend.ForwardBatchCheckAsync(request, context).ConfigureAwait(false);
        return request;
    }

    /// <inheritdoc />
    public override Task<IngestResponse> Ingest(IAsyncStreamReader<IngestRequest> requestStream, ServerCallContext context) => decoding.Ingest(requestStream, context);

    /// <inheritdoc />
    public override Task<ForgetUserResponse> ForgetUser(ForgetUserRequest request, ServerCallContext context) => decoding.ForgetUser(request, context);

    private static void ThrowIfInvalid(ForwardedRequest request, string? error)
    {
        if (error is not null)
        {
            request.Release();
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }
    }
}
