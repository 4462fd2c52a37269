using System.Collections.Concurrent;
using Google.Protobuf;
using ReadHistory.Api.V1;
using Grpc.Core;
using ReadHistoryBase = ReadHistory.Api.V1.ReadHistory.ReadHistoryBase;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Tests.EndToEnd;

/// <summary>
/// A test double of the ReadHistory service for the CLI's tests only: reads kept in a dictionary.
/// Content types above 100 are refused with INVALID_ARGUMENT, and forgetting user 666 hangs until the
/// deadline, so tests can see failed calls turn into exit codes.
/// </summary>
internal sealed class InMemoryReadHistoryService : ReadHistoryBase
{
    public const uint MaxContentType = 100;
    public const ulong SlowUser = 666;

    private readonly ConcurrentDictionary<(ulong User, uint Type), HashSet<ulong>> _reads = new();

    public override Task<CheckResponse> Check(CheckRequest request, ServerCallContext context)
    {
        var read = ReadsOf(request.UserId, request.ContentType, request.ContentIds.Count);
        var bitmap = new byte[(request.ContentIds.Count + 7) / 8];
        uint unread = 0;
        lock (read)
        {
            for (var i = 0; i < request.ContentIds.Count; i++)
            {
                if (read.Contains(request.ContentIds[i]))
                {
                    bitmap[i / 8] |= (byte)(1 << (i % 8));
                }
                else
                {
                    unread++;
                }
            }
        }

        return Task.FromResult(new CheckResponse { ReadBitmap = ByteString.CopyFrom(bitmap), UnreadCount = unread, Source = AnswerSource.Memory });
    }

    public override Task<FilterResponse> Filter(CheckRequest request, ServerCallContext context)
    {
        var read = ReadsOf(request.UserId, request.ContentType, request.ContentIds.Count);
        var response = new FilterResponse { Source = AnswerSource.Database };
        lock (read)
        {
            response.UnreadIds.Add(request.ContentIds.Where(id => !read.Contains(id)));
        }

        return Task.FromResult(response);
    }

    public override Task<MarkReadResponse> MarkRead(MarkReadRequest request, ServerCallContext context) =>
        Task.FromResult(new MarkReadResponse { Written = (uint)Mark(request) });

    public override async Task<IngestResponse> Ingest(IAsyncStreamReader<IngestRequest> requests, ServerCallContext context)
    {
        var response = new IngestResponse();
        var latest = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds();
        while (await requests.MoveNext(context.CancellationToken))
        {
            var batch = requests.Current.Batch;
            var future = batch.Items.Where(i => i.ReadAtMs > latest).ToArray();
            foreach (var item in future)
            {
                batch.Items.Remove(item);
            }

            if (future.Length > 0 && response.FirstError.Length == 0)
            {
                response.FirstError = $"read_at_ms {future[0].ReadAtMs} is later than now + 1 day";
            }

            response.Rejected += (ulong)future.Length;
            response.Accepted += (ulong)batch.Items.Count;
            Mark(batch);
        }

        return response;
    }

    public override async Task<ForgetUserResponse> ForgetUser(ForgetUserRequest request, ServerCallContext context)
    {
        if (request.UserId == SlowUser)
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        ulong removed = 0;
        foreach (var key in _reads.Keys.Where(k => k.User == request.UserId))
        {
            if (_reads.TryRemove(key, out var ids))
            {
                removed += (ulong)ids.Count;
            }
        }

        return new ForgetUserResponse { RowsRemoved = removed };
    }

    private int Mark(MarkReadRequest request)
    {
        var read = ReadsOf(request.UserId, request.ContentType, request.Items.Count);
        lock (read)
        {
            return request.Items.Select(i => i.ContentId).Distinct().Count(read.Add);
        }
    }

    private HashSet<ulong> ReadsOf(ulong user, uint type, int count)
    {
        if (type > MaxContentType)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"content_type {type} is not configured (0 .. {MaxContentType})"));
        }

        if (user == 0 || count is 0 or > 10_000)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "user_id must be 1 .. 2^64-1 and 1 .. 10,000 ids"));
        }

        return _reads.GetOrAdd((user, type), _ => []);
    }
}
