namespace ReadHistory.Server.Cache;

/// <summary>What a pool knows of one id of one user (the internal Explain call; see its message in cache_node.proto).</summary>
/// <param name="Pool">The pool answering.</param>
/// <param name="Held">The user's filter is in memory.</param>
/// <param name="Capped">The user is too large for a filter.</param>
/// <param name="Rebuilding">A rebuild of the user is registered.</param>
/// <param name="FilterRead">With <paramref name="Held"/>: the filter's answer.</param>
/// <param name="AnsweringLayer">The first layer whose bits are all set; -1 for none.</param>
/// <param name="DatabaseRead">The database holds the read.</param>
/// <param name="Rows">The user's rows over every content type.</param>
/// <param name="Layers">The filter's layers (0 when not held).</param>
/// <param name="Items">Items added to the filter.</param>
/// <param name="Capacity">Items its layers hold at their design rates.</param>
/// <param name="BitBytes">Bytes of its bit arrays.</param>
/// <param name="MemoryBytes">Bytes it holds on the heap.</param>
/// <param name="EstimatedRate">The rate its model estimates at its fill.</param>
/// <param name="MeasuredPoolRate">The pool's measured rate since start.</param>
/// <param name="MeasuredPoolSamples">The measured rate's sample count.</param>
internal sealed record Explanation(
    string Pool,
    bool Held,
    bool Capped,
    bool Rebuilding,
    bool FilterRead,
    int AnsweringLayer,
    bool DatabaseRead,
    long Rows,
    int Layers,
    long Items,
    long Capacity,
    long BitBytes,
    long MemoryBytes,
    double EstimatedRate,
    double MeasuredPoolRate,
    long MeasuredPoolSamples);
