using System.Text;
using ReadHistory.Api.V1;
using ExplainRequest = ReadHistory.Api.Internal.V1.ExplainRequest;

namespace ReadHistory.Server.Api;

/// <summary>
/// Checks public API requests against <see cref="RequestLimits"/>. A refused call is refused whole, so nothing
/// partial is written; the message names the field and the limit.
/// </summary>
internal sealed class RequestValidator(RequestLimits limits, TimeProvider time)
{
    /// <summary>Rows one Ingest stream may have in flight (<see cref="RequestLimits.MaxIngestRowsInFlight"/>).</summary>
    public int MaxIngestRowsInFlight => limits.MaxIngestRowsInFlight;

    /// <summary>The error for a Check or Filter request, or null when it is valid.</summary>
    public string? Validate(CheckRequest request) =>
        ValidateCheck(request.UserId, request.ContentType, request.ContentIds.Count, request.ContentIds.IndexOf(0), request.SessionId, request.Tenant);

    /// <summary>
    /// The error for a Check or Filter request given its fields (the forwarding proxy reads them from the bytes):
    /// <paramref name="ids"/> content ids, the first 0 at <paramref name="firstZeroId"/> (-1: none). Null when valid.
    /// </summary>
    public string? ValidateCheck(ulong userId, uint contentType, int ids, int firstZeroId, string sessionId, string tenant) =>
        ValidateUser(userId, "user_id")
        ?? ValidateType(contentType, "content_type")
        ?? ValidateIds(ids, firstZeroId, "content_ids")
        ?? ValidateSession(sessionId)
        ?? ValidateTenant(tenant);

    /// <summary>The error for a BatchCheck request, or null when it is valid.</summary>
    public string? Validate(BatchCheckRequest request)
    {
        long ids = 0;
        for (var i = 0; i < request.Requests.Count; i++)
        {
            ids += request.Requests[i].ContentIds.Count;
        }

        return ValidateBatch(request.Requests.Count, ids, request.Tenant);
    }

    /// <summary>
    /// The error for a BatchCheck request given its fields (the forwarding proxy reads them from the bytes):
    /// <paramref name="entries"/> entries holding <paramref name="ids"/> content ids in all. Null when valid.
    /// </summary>
    public string? ValidateBatch(int entries, long ids, string tenant)
    {
        if (entries == 0)
        {
            return "requests: at least one entry is required";
        }

        if (entries > limits.MaxBatchUsers)
        {
            return $"requests: {entries} entries exceed the limit of {limits.MaxBatchUsers}";
        }

        if (ids > limits.MaxBatchIds)
        {
            return $"requests: {ids} content ids in all exceed the limit of {limits.MaxBatchIds}";
        }

        return ValidateTenant(tenant, "tenant");
    }

    /// <summary>The error for one entry of a BatchCheck (reported in that entry's status), or null.</summary>
    public string? ValidateEntry(CheckRequest entry, int index) =>
        ValidateEntry(entry.UserId, entry.ContentType, entry.ContentIds.Count, entry.ContentIds.IndexOf(0), entry.Tenant, index);

    /// <summary>
    /// The error for entry <paramref name="index"/> of a BatchCheck given its fields (its tenant already the request's
    /// when it named none), or null. The field names carrying the index are built only for an entry that is refused.
    /// </summary>
    public string? ValidateEntry(ulong userId, uint contentType, int ids, int firstZeroId, string tenant, int index) =>
        ValidateUser(userId, "user_id") is null
            && ValidateType(contentType, "content_type") is null
            && ValidateIds(ids, firstZeroId, "content_ids") is null
            && ValidateTenant(tenant) is null
            ? null
            : ValidateUser(userId, $"requests[{index}].user_id")
                ?? ValidateType(contentType, $"requests[{index}].content_type")
                ?? ValidateIds(ids, firstZeroId, $"requests[{index}].content_ids")
                ?? ValidateTenant(tenant, $"requests[{index}].tenant");

    /// <summary>The error for a MarkRead request (or one Ingest message), or null when it is valid.</summary>
    public string? Validate(MarkReadRequest request)
    {
        var error = ValidateMarkRead(request.UserId, request.ContentType, request.SessionId, request.Tenant, request.Items.Count);
        if (error is not null)
        {
            return error;
        }

        var latest = LatestReadAtMs();
        for (var i = 0; i < request.Items.Count; i++)
        {
            var item = request.Items[i];
            if (ValidateItem(i, item.ContentId, item.ReadAtMs, latest) is { } itemError)
            {
                return itemError;
            }
        }

        return null;
    }

    /// <summary>The error for a MarkRead request's fields but its items' contents (checked by <see cref="ValidateItem"/>), or null.</summary>
    public string? ValidateMarkRead(ulong userId, uint contentType, string sessionId, string tenant, int items)
    {
        var error = ValidateUser(userId, "user_id")
            ?? ValidateType(contentType, "content_type")
            ?? ValidateSession(sessionId)
            ?? ValidateTenant(tenant);
        if (error is not null)
        {
            return error;
        }

        if (items == 0)
        {
            return "items: at least one item is required";
        }

        if (items > limits.MaxIdsPerCall)
        {
            return $"items: {items} items exceed the limit of {limits.MaxIdsPerCall}";
        }

        return null;
    }

    /// <summary>The latest read_at_ms accepted now (for <see cref="ValidateItem"/>).</summary>
    public long LatestReadAtMs() => time.GetUtcNow().Add(limits.MaxReadAtAhead).ToUnixTimeMilliseconds();

    /// <summary>The error for item <paramref name="index"/> of a MarkRead request, or null.</summary>
    public string? ValidateItem(int index, ulong contentId, long readAtMs, long latestReadAtMs)
    {
        if (contentId == 0)
        {
            return $"items[{index}].content_id: 0 is not a valid id (1 .. 2^64-1)";
        }

        if (readAtMs < 0)
        {
            return $"items[{index}].read_at_ms: {readAtMs} is negative (0 = now, else Unix milliseconds)";
        }

        if (readAtMs > latestReadAtMs)
        {
            return $"items[{index}].read_at_ms: {readAtMs} is more than {limits.MaxReadAtAhead.TotalHours:0} h in the future";
        }

        return null;
    }

    /// <summary>The error for a ForgetUser request, or null when it is valid.</summary>
    public string? Validate(ForgetUserRequest request) =>
        ValidateUser(request.UserId, "user_id") ?? ValidateTenant(request.Tenant);

    /// <summary>The error for an Explain request, or null when it is valid.</summary>
    public static string? Validate(ExplainRequest request) =>
        ValidateUser(request.UserId, "user_id") ?? ValidateType(request.ContentType, "content_type");

    private static string? ValidateUser(ulong userId, string field) =>
        userId == 0 ? $"{field}: 0 is not a valid user id (1 .. 2^64-1)" : null;

    private static string? ValidateType(uint contentType, string field) =>
        contentType > ushort.MaxValue ? $"{field}: {contentType} exceeds the limit of {ushort.MaxValue}" : null;

    private string? ValidateIds(int count, int firstZero, string field)
    {
        if (count == 0)
        {
            return $"{field}: at least one id is required";
        }

        if (count > limits.MaxIdsPerCall)
        {
            return $"{field}: {count} ids exceed the limit of {limits.MaxIdsPerCall}";
        }

        return firstZero >= 0 ? $"{field}[{firstZero}]: 0 is not a valid id (1 .. 2^64-1)" : null;
    }

    private string? ValidateSession(string session) =>
        session.Length > 0 && Encoding.UTF8.GetByteCount(session) > limits.MaxSessionIdBytes
            ? $"session_id: {Encoding.UTF8.GetByteCount(session)} bytes exceed the limit of {limits.MaxSessionIdBytes}"
            : null;

    private string? ValidateTenant(string tenant, string field = "tenant")
    {
        if (tenant.Length == 0)
        {
            return null;
        }

        if (tenant.Length > limits.MaxTenantBytes)
        {
            return $"{field}: {tenant.Length} bytes exceed the limit of {limits.MaxTenantBytes}";
        }

        foreach (var c in tenant)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-'))
            {
                return $"{field}: '{tenant}' may hold only a-z, 0-9, '_' and '-'";
            }
        }

        return null;
    }
}
