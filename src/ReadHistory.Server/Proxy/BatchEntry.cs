namespace ReadHistory.Server.Proxy;

/// <summary>
/// One entry of a <see cref="ForwardedBatch"/>: where its CheckRequest bytes lie in the client's request, the fields
/// read from them, and its outcome — a result of a node's answer (<see cref="Answer"/>, <see cref="Result"/>) or a
/// status of its own (<see cref="Code"/>, <see cref="Message"/>).
/// </summary>
internal struct BatchEntry
{
    /// <summary>Where the entry's bytes start in the client's request (after field 1's tag and length).</summary>
    public int Start { get; set; }

    /// <summary>The entry's length in bytes.</summary>
    public int Length { get; set; }

    /// <summary>The entry's routing and validation fields.</summary>
    public CheckFields Fields { get; set; }

    /// <summary>Whether the entry has its outcome.</summary>
    public bool Answered { get; set; }

    /// <summary>The node's answer holding the entry's result, or null when the entry failed on the proxy.</summary>
    public RelayedBatch? Answer { get; set; }

    /// <summary>The index of the entry's result in <see cref="Answer"/>.</summary>
    public int Result { get; set; }

    /// <summary>The entry's status code when it failed on the proxy (a refusal, or its slot's failure).</summary>
    public int Code { get; set; }

    /// <summary>The entry's status message when it failed on the proxy.</summary>
    public string? Message { get; set; }
}
