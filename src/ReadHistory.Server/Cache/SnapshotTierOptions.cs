namespace ReadHistory.Server.Cache;

/// <summary>
/// The second tier (T2), under ReadHistory:Cache:T2: filter snapshots in Redis between this node's memory and the
/// database. Needs Redis (the slot's change stream brings a loaded snapshot up to date). Defaults live in
/// appsettings.json; to add a setting: a property here, its bound in <see cref="Validate"/>, its default with a
/// comment in appsettings.json, and a row in docs/configuration.md.
/// </summary>
internal sealed class SnapshotTierOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = CacheNodeOptions.Section + ":T2";

    /// <summary>Whether misses try T2 before the database, and evicted (and large rebuilt) filters are written back to it.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// Longest a miss waits for T2 (the snapshot's GET, its catch-up from the stream, the install) before it answers from
    /// the database as without T2; the load itself gives up at the same bound.
    /// </summary>
    public TimeSpan LoadTimeout { get; set; }

    /// <summary>
    /// Longest a load (the GET and the catch-up from the stream) goes on after the misses waiting for it went to their
    /// point queries: a snapshot written minutes ago has minutes of stream to read, which LoadTimeout does not cover,
    /// and installing it still spares the rebuild's database scan. At least LoadTimeout (zero = LoadTimeout).
    /// </summary>
    public TimeSpan CatchUpTimeout { get; set; }

    /// <summary>
    /// StackExchange.Redis configuration string of the Redis holding the snapshots; empty = ReadHistory:Redis's. A
    /// dedicated instance (maxmemory with allkeys-lru) bounds T2's bytes without touching the change streams.
    /// </summary>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>A rebuild from the database of at least this many rows also writes the filter back (0 = every rebuild).</summary>
    public long WriteBackMinRows { get; set; }

    /// <summary>How long a snapshot stays in Redis unless loaded or replaced (each write-back sets it anew).</summary>
    public TimeSpan Ttl { get; set; }

    /// <summary>Write-backs queued for the background writer; past it new ones are dropped and counted.</summary>
    public int WriteBackQueue { get; set; }

    /// <summary>
    /// How often the held filters are walked, hottest first, to write back those whose snapshot is missing or older
    /// than <see cref="RefreshMaxAge"/> (zero = never: T2 then holds only evicted and heavy rebuilt filters, so a new
    /// replica whose peer is gone finds nothing of the slot's hot users).
    /// </summary>
    public TimeSpan RefreshInterval { get; set; }

    /// <summary>A held filter whose snapshot was written longer ago than this (by any replica) is written again by a refresh.</summary>
    public TimeSpan RefreshMaxAge { get; set; }

    /// <summary>Snapshot bytes a refresh (periodic or at shutdown) writes per second at most; a pass stops at its interval's worth.</summary>
    public long RefreshBytesPerSecond { get; set; }

    /// <summary>Held filters a refresh pass looks at, hottest first (one pipelined PTTL each); the colder ones wait for eviction.</summary>
    public int RefreshMaxUsers { get; set; }

    /// <summary>Longest a graceful shutdown spends on one last refresh pass, at RefreshBytesPerSecond (zero = none).</summary>
    public TimeSpan ShutdownWriteBackTimeout { get; set; }

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (LoadTimeout < TimeSpan.FromMilliseconds(1) || LoadTimeout > TimeSpan.FromSeconds(10))
        {
            problems.Add($"{Section}:LoadTimeout: {LoadTimeout} is outside 1 ms .. 10 seconds");
        }

        if (CatchUpTimeout < TimeSpan.Zero || CatchUpTimeout > TimeSpan.FromSeconds(30))
        {
            problems.Add($"{Section}:CatchUpTimeout: {CatchUpTimeout} is outside 0 .. 30 seconds");
        }

        if (WriteBackMinRows < 0)
        {
            problems.Add($"{Section}:WriteBackMinRows: {WriteBackMinRows} is below 0");
        }

        if (Ttl < TimeSpan.FromSeconds(1) || Ttl > TimeSpan.FromDays(30))
        {
            problems.Add($"{Section}:Ttl: {Ttl} is outside 1 second .. 30 days");
        }

        if (WriteBackQueue is < 1 or > 1_000_000)
        {
            problems.Add($"{Section}:WriteBackQueue: {WriteBackQueue} is outside 1 .. 1,000,000");
        }

        if (RefreshInterval < TimeSpan.Zero || RefreshInterval > TimeSpan.FromHours(1))
        {
            problems.Add($"{Section}:RefreshInterval: {RefreshInterval} is outside 0 .. 1 hour");
        }

        if ((RefreshInterval > TimeSpan.Zero || ShutdownWriteBackTimeout > TimeSpan.Zero) && (RefreshMaxAge < TimeSpan.Zero || RefreshMaxAge >= Ttl))
        {
            problems.Add($"{Section}:RefreshMaxAge: {RefreshMaxAge} is outside 0 .. Ttl ({Ttl}): a snapshot would expire before it counts as old");
        }

        if ((RefreshInterval > TimeSpan.Zero || ShutdownWriteBackTimeout > TimeSpan.Zero) && RefreshBytesPerSecond < 1)
        {
            problems.Add($"{Section}:RefreshBytesPerSecond: {RefreshBytesPerSecond} is below 1");
        }

        if ((RefreshInterval > TimeSpan.Zero || ShutdownWriteBackTimeout > TimeSpan.Zero) && RefreshMaxUsers is < 1 or > 10_000_000)
        {
            problems.Add($"{Section}:RefreshMaxUsers: {RefreshMaxUsers} is outside 1 .. 10,000,000");
        }

        if (ShutdownWriteBackTimeout < TimeSpan.Zero || ShutdownWriteBackTimeout > TimeSpan.FromMinutes(5))
        {
            problems.Add($"{Section}:ShutdownWriteBackTimeout: {ShutdownWriteBackTimeout} is outside 0 .. 5 minutes");
        }
    }
}
