using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Kestrel's connection and header limits, set deliberately under ReadHistory:Connections (defaults in appsettings.json,
/// reasons in docs/operations.md, "Limits"): they apply to every listener of the process.
/// </summary>
internal sealed class ConnectionLimits
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Connections";

    /// <summary>Open connections the process accepts at once (Kestrel's MaxConcurrentConnections); past it a new connection is closed at once.</summary>
    public long MaxConnections { get; set; }

    /// <summary>Concurrent HTTP/2 streams (calls) per connection (Kestrel's Http2.MaxStreamsPerConnection); a client opens another connection past it.</summary>
    public int MaxStreamsPerConnection { get; set; }

    /// <summary>Bytes of request headers (metadata) per call, after decompression (Kestrel's MaxRequestHeadersTotalSize).</summary>
    public int MaxRequestHeadersTotalSize { get; set; }

    /// <summary>Request headers per call (Kestrel's MaxRequestHeaderCount).</summary>
    public int MaxRequestHeaderCount { get; set; }

    /// <summary>Applies the limits to Kestrel's.</summary>
    public void ApplyTo(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxConcurrentConnections = MaxConnections;
        limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalSize;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        // HPACK: one header field may be as large as all of them together, no larger.
        limits.Http2.MaxRequestHeaderFieldSize = Math.Min(limits.Http2.MaxRequestHeaderFieldSize, MaxRequestHeadersTotalSize);
    }

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (MaxConnections < 1)
        {
            problems.Add($"{Section}:MaxConnections: {MaxConnections} is below 1");
        }

        if (MaxStreamsPerConnection < 1)
        {
            problems.Add($"{Section}:MaxStreamsPerConnection: {MaxStreamsPerConnection} is below 1");
        }

        if (MaxRequestHeadersTotalSize is < 1024 or > 1 << 20)
        {
            problems.Add($"{Section}:MaxRequestHeadersTotalSize: {MaxRequestHeadersTotalSize} is outside 1,024 .. 1,048,576");
        }

        if (MaxRequestHeaderCount is < 8 or > 1000)
        {
            problems.Add($"{Section}:MaxRequestHeaderCount: {MaxRequestHeaderCount} is outside 8 .. 1,000");
        }
    }
}
