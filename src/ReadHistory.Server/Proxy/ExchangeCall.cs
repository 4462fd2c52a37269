namespace ReadHistory.Server.Proxy;

/// <summary>The calls an Exchange stream carries, valued by their field number in ExchangeRequest (and in ExchangeResponse, plus 3).</summary>
internal enum ExchangeCall
{
    /// <summary>CacheNode.Check (request field 3, answer field 6: a CheckResponse, whose source is its field 3).</summary>
    Check = 3,

    /// <summary>CacheNode.Filter (request field 4, answer field 7: a FilterResponse, whose source is its field 2).</summary>
    Filter = 4,

    /// <summary>CacheNode.MarkRead (request field 5, answer field 8: a MarkReadResponse, which has no source).</summary>
    MarkRead = 5,
}
