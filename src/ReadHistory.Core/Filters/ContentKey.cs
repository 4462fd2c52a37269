namespace ReadHistory.Core.Filters;

/// <summary>One read-history row's key: the content type and the content id.</summary>
/// <param name="Type">The content type (content_type).</param>
/// <param name="Id">The content id (content_id).</param>
public readonly record struct ContentKey(ushort Type, ulong Id);
