namespace ReadHistory.Server.Api.Admission;

/// <summary>
/// Admission control, under ReadHistory:Admission: calls in flight per class on a cache node (its CacheNode API, and
/// the public API when it serves it itself, as role all does) and on a proxy (the public API). Past a bound a call is
/// refused at once with RESOURCE_EXHAUSTED and a retry-after-ms trailer. Defaults in appsettings.json.
/// </summary>
internal sealed class AdmissionOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "ReadHistory:Admission";

    /// <summary>The bounds of a process that holds filters (role cache or all, or a database-backed API).</summary>
    public AdmissionLimits Node { get; set; } = new();

    /// <summary>The bounds of a proxy that forwards to remote cache nodes.</summary>
    public AdmissionLimits Proxy { get; set; } = new();

    /// <summary>The wait a refused caller is told to leave before it tries again (the retry-after-ms trailer).</summary>
    public TimeSpan RetryAfter { get; set; }

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        Node.Validate(Section + ":Node", problems);
        Proxy.Validate(Section + ":Proxy", problems);
        if (RetryAfter < TimeSpan.FromMilliseconds(1) || RetryAfter > TimeSpan.FromSeconds(10))
        {
            problems.Add($"{Section}:RetryAfter: {RetryAfter} is outside 00:00:00.001 .. 00:00:10");
        }
    }
}
