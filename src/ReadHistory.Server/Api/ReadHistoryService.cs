using System.Numerics;
using Grpc.Core;
using Google.Protobuf;
using ReadHistory.Api.V1;
using ReadHistoryBase = ReadHistory.Api.V1.ReadHistory.ReadHistoryBase;

namespace ReadHistory.Server.Api;

/// <summary>
/// The public readhistory.v1.ReadHistory service: validates every call (a refused call is refused whole, with
/// INVALID_ARGUMENT naming the field and the limit) and hands valid ones to the backend. Bound through
/// <see cref="MalformedRequestBinder"/> (see <see cref="BindService"/>).
/// </summary>
[BindServiceMethod(typeof(ReadHistoryService), nameof(BindService))]
internal sealed class ReadHistoryService(RequestValidator validator, IReadHistoryBackend backend) : ReadHistoryBase
{
    /// <summary>
    /// Binds the generated methods with request marshallers that answer a request whose protobuf does not parse with
    /// INTERNAL, not UNKNOWN. Grpc.AspNetCore finds this method through the attribute and calls it with a null service.
    /// </summary>
    public static void BindService(ServiceBinderBase serviceBinder, ReadHistoryBase? serviceImpl) =>
        global::ReadHistory.Api.V1.ReadHistory.BindService(new MalformedRequestBinder(serviceBinder), serviceImpl);

    /// <summary>Check: the read bitmap of one user's candidates.</summary>
    public override async Task<CheckResponse> Check(CheckRequest request, ServerCallContext context)
    {
        ThrowIfInvalid(validator.Validate(request));
        var bitmap = new byte[(request.ContentIds.Count + 7) / 8];
        var source = await backend.CheckAsync(request, bitmap, context).ConfigureAwait(false);
        return Answer(bitmap, request.ContentIds.Count, source);
    }

    /// <summary>Filter: the unread ids in request order.</summary>
    public override async Task<FilterResponse> Filter(CheckRequest request, ServerCallContext context)
    {
        ThrowIfInvalid(validator.Validate(request));
        var bitmap = new byte[(request.ContentIds.Count + 7) / 8];
        var source = await backend.CheckAsync(request, bitmap, context).ConfigureAwait(false);
        var response = new FilterResponse { Source = source };
        for (var i = 0; i < request.ContentIds.Count; i++)
        {
            if ((bitmap[i >> 3] & (1 << (i & 7))) == 0)
            {
                response.UnreadIds.Add(request.ContentIds[i]);
            }
        }

        return response;
    }

    /// <summary>BatchCheck: every entry answered in parallel (by the backend's batch path when it has one); a failed entry carries its own status.</summary>
    public override async Task<BatchCheckResponse> BatchCheck(BatchCheckRequest request, ServerCallContext context)
    {
        ThrowIfInvalid(validator.Validate(request));
        var results = new UserCheckResult?[request.Requests.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var entry = request.Requests[i];
            if (entry.Tenant.Length == 0)
            {
                entry.Tenant = request.Tenant;
            }

            if (validator.ValidateEntry(entry, i) is { } error)
            {
                results[i] = new UserCheckResult { StatusCode = (int)StatusCode.InvalidArgument, StatusMessage = error };
            }
        }

        var response = new BatchCheckResponse();
        if (await backend.TryBatchCheckAsync(request, results, context).ConfigureAwait(false))
        {
            foreach (var result in results)
            {
                response.Results.Add(result ?? new UserCheckResult { StatusCode = (int)StatusCode.Internal, StatusMessage = "the backend left this entry unanswered" });
            }

            return response;
        }

        var entries = new Task<UserCheckResult>[results.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = results[i] is { } refused ? Task.FromResult(refused) : CheckEntryAsync(request.Requests[i], context);
        }

        response.Results.AddRange(await Task.WhenAll(entries).ConfigureAwait(false));
        return response;
    }

    /// <summary>MarkRead: acknowledged once the rows are durable.</summary>
    public override async Task<MarkReadResponse> MarkRead(MarkReadRequest request, ServerCallContext context)
    {
        ThrowIfInvalid(validator.Validate(request));
        var written = await backend.MarkReadAsync(request, context).ConfigureAwait(false);
        return new MarkReadResponse { Written = (uint)written };
    }

    /// <summary>
    /// Ingest: each valid message is written, pipelined (see <see cref="IReadHistoryBackend.OpenIngest"/>); invalid ones
    /// are counted and the first reason kept. The counts are answered once every accepted row is durable and visible.
    /// </summary>
    public override Task<IngestResponse> Ingest(IAsyncStreamReader<IngestRequest> requests, ServerCallContext context) =>
        IngestAsync(requests, static r => r.Batch, current: false, context);

    /// <summary>
    /// The Ingest loop over any stream whose messages carry a MarkRead (<paramref name="batchOf"/>); with
    /// <paramref name="current"/>, the reader's current message (already read by the caller) is the first.
    /// </summary>
    internal async Task<IngestResponse> IngestAsync<T>(IAsyncStreamReader<T> requests, Func<T, MarkReadRequest?> batchOf, bool current, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(batchOf);
        ArgumentNullException.ThrowIfNull(context);
        ulong rejected = 0;
        string? firstError = null;
        var sink = backend.OpenIngest(context, validator.MaxIngestRowsInFlight);
        await using (sink.ConfigureAwait(false))
        {
            while (current || await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                current = false;
                var batch = batchOf(requests.Current);
                var error = batch is null ? "batch: required" : validator.Validate(batch);
                if (error is not null)
                {
                    rejected += (ulong)(batch?.Items.Count ?? 0);
                    firstError ??= error;
                    continue;
                }

                await sink.AddAsync(batch!).ConfigureAwait(false);
            }

            var response = await sink.CompleteAsync().ConfigureAwait(false);
            response.Rejected += rejected;
            if (firstError is not null)
            {
                // A refusal seen here wins over one a node behind a proxy reported (both are this stream's refusals).
                response.FirstError = firstError;
            }

            return response;
        }
    }

    /// <summary>ForgetUser: removes the user's rows and cached filters.</summary>
    public override async Task<ForgetUserResponse> ForgetUser(ForgetUserRequest request, ServerCallContext context)
    {
        ThrowIfInvalid(validator.Validate(request));
        var removed = await backend.ForgetUserAsync(request, context).ConfigureAwait(false);
        return new ForgetUserResponse { RowsRemoved = (ulong)removed };
    }

    private async Task<UserCheckResult> CheckEntryAsync(CheckRequest entry, ServerCallContext context)
    {
        try
        {
            var bitmap = new byte[(entry.ContentIds.Count + 7) / 8];
            var source = await backend.CheckAsync(entry, bitmap, context).ConfigureAwait(false);
            return new UserCheckResult { Response = Answer(bitmap, entry.ContentIds.Count, source) };
        }
        catch (RpcException e)
        {
            return new UserCheckResult { StatusCode = (int)e.StatusCode, StatusMessage = e.Status.Detail };
        }
    }

    private static void ThrowIfInvalid(string? error)
    {
        if (error is not null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }
    }

    private static CheckResponse Answer(byte[] bitmap, int ids, AnswerSource source) => new()
    {
        ReadBitmap = UnsafeByteOperations.UnsafeWrap(bitmap),
        UnreadCount = (uint)(ids - PopCount(bitmap)),
        Source = source,
    };

    private static int PopCount(ReadOnlySpan<byte> bitmap)
    {
        var count = 0;
        foreach (var b in bitmap)
        {
            count += BitOperations.PopCount(b);
        }

        return count;
    }
}
