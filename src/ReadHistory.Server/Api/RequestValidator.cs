using System.Text;
using ReadHistory.Api.V1;

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
        ValidateUser(request.UserId, "user_id")
        ?? ValidateType(request.ContentType, "content_type")
        ?? ValidateIds(request.ContentIds, "content_ids")
        ?? ValidateSession(request.SessionId)
        ?? ValidateTenant(request.Tenant);

    /// <summary>The error for a BatchCheck request, or null when it is valid.</summary>
    public string? Validate(BatchCheckRequest request)
    {
        if (request.Requests.Count == 0)
        {
            return "requests: at least one entry is required";
        }

        if (request.Requests.Count > limits.MaxBatchUsers)
        {
            return $"requests: {request.Requests.Count} entries exceed the limit of {limits.MaxBatchUsers}";
        }

        long ids = 0;
        for (var i = 0; i < request.Requests.Count; i++)
        {
            ids += request.Requests[i].ContentIds.Count;
        }

        if (ids > limits.MaxBatchIds)
        {
            return $"requests: {ids} content ids in all exceed the limit of {limits.MaxBatchIds}";
        }

        return ValidateTenant(request.Tenant, "tenant");
    }

    /// <summary>The error for one entry of a BatchCheck (reported in that entry's status), or null.</summary>
    public string? ValidateEntry(CheckRequest entry, int index) =>
        ValidateUser(entry.UserId, $"requests[{index}].user_id")
        ?? ValidateType(entry.ContentType, $"requests[{index}].content_type")
        ?? ValidateIds(entry.ContentIds, $"requests[{index}].content_ids")
        ?? ValidateTenant(entry.Tenant, $"requests[{index}].tenant");

    /// <summary>The error for a MarkRead request (or one Ingest message), or null when it is valid.</summary>
    public string? Validate(MarkReadRequest request)
    {
        var error = ValidateUser(request.UserId, "user_id")
            ?? ValidateType(request.ContentType, "content_type")
            ?? ValidateSession(request.SessionId)
            ?? ValidateTenant(request.Tenant);
        if (error is not null)
        {
            return error;
        }

        if (request.Items.Count == 0)
        {
            return "items: at least one item is required";
        }

        if (request.Items.Count > limits.MaxIdsPerCall)
        {
            return $"items: {request.Items.Count} items exceed the limit of {limits.MaxIdsPerCall}";
        }

        var latest = time.GetUtcNow().Add(limits.MaxReadAtAhead).ToUnixTimeMilliseconds();
        for (var i = 0; i < request.Items.Count; i++)
        {
            var item = request.Items[i];
            if (item.ContentId == 0)
            {
                return $"items[{i}].content_id: 0 is not a valid id (1 .. 2^64-1)";
            }

            if (item.ReadAtMs < 0)
            {
                return $"items[{i}].read_at_ms: {item.ReadAtMs} is negative (0 = now, else Unix milliseconds)";
            }

            if (item.ReadAtMs > latest)
            {
                return $"items[{i}].read_at_ms: {item.ReadAtMs} is more than {limits.MaxReadAtAhead.TotalHours:0} h in the future";
            }
        }

        return null;
    }

    /// <summary>The error for a ForgetUser request, or null when it is valid.</summary>
    public string? Validate(ForgetUserRequest request) =>
        ValidateUser(request.UserId, "user_id") ?? ValidateTenant(request.Tenant);

    private static string? ValidateUser(ulong userId, string field) =>
        userId == 0 ? $"{field}: 0 is not a valid user id (1 .. 2^64-1)" : null;

    private static string? ValidateType(uint contentType, string field) =>
        contentType > ushort.MaxValue ? $"{field}: {contentType} exceeds the limit of {ushort.MaxValue}" : null;

    private string? ValidateIds(Google.Protobuf.Collections.RepeatedField<ulong> ids, string field)
    {
        if (ids.Count == 0)
        {
            return $"{field}: at least one id is required";
        }

        if (ids.Count > limits.MaxIdsPerCall)
        {
            return $"{field}: {ids.Count} ids exceed the limit of {limits.MaxIdsPerCall}";
        }

        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == 0)
            {
                return $"{field}[{i}]: 0 is not a valid id (1 .. 2^64-1)";
            }
        }

        return null;
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
