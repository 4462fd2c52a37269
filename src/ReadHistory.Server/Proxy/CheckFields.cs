namespace ReadHistory.Server.Proxy;

/// <summary>
/// The routing and validation fields of a public CheckRequest read from its bytes (<see cref="ForwardedRequestReader"/>):
/// a whole Check / Filter request, or one entry of a BatchCheck.
/// </summary>
internal struct CheckFields
{
    /// <summary>Fields of a request with none set: ids counted from 0, no id 0 seen, empty strings.</summary>
    public CheckFields()
    {
    }

    /// <summary>The user (field 1).</summary>
    public ulong UserId { get; set; }

    /// <summary>The content type (field 2).</summary>
    public uint ContentType { get; set; }

    /// <summary>Content ids in the request (field 3, packed and unpacked together).</summary>
    public int Count { get; set; }

    /// <summary>The index of the first id 0, or -1.</summary>
    public int FirstZeroId { get; set; } = -1;

    /// <summary>The session (field 4), empty when absent.</summary>
    public string SessionId { get; set; } = string.Empty;

    /// <summary>The tenant tag (field 5), empty when absent.</summary>
    public string Tenant { get; set; } = string.Empty;
}
