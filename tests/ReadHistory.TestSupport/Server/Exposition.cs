using System.Text;
using Prometheus;

namespace ReadHistory.TestSupport.Server;

/// <summary>What a registry would serve on /metrics, for tests that check series without a host.</summary>
internal static class Exposition
{
    /// <summary>The registry's text exposition, one line per element.</summary>
    public static async Task<string[]> ScrapeLinesAsync(CollectorRegistry registry)
    {
        using var text = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(text);
        return Encoding.UTF8.GetString(text.ToArray()).Split('\n');
    }
}
