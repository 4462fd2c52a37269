using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace ReadHistory.Benchmarks.Shared;

/// <summary>
/// The runtime's allocation ticks (one event per ~100 KB allocated, naming the type whose allocation crossed it) counted
/// by type while <see cref="Enabled"/>: a sampled answer to "what does this path allocate", with no profiler attached.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    /// <summary>Counts only while true.</summary>
    public bool Enabled { get; set; }

    /// <summary>The sampled bytes by type since the last <see cref="Take"/>, largest first, and clears them.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Take()
    {
        var taken = _bytes.OrderByDescending(p => p.Value).ToList();
        _bytes.Clear();
        return taken;
    }

    /// <inheritdoc />
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    /// <inheritdoc />
    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!Enabled || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        var type = eventData.PayloadNames.IndexOf("TypeName");
        var amount = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (type >= 0 && eventData.Payload[type] is string name)
        {
            var bytes = amount >= 0 && eventData.Payload[amount] is ulong a ? (long)a : 100_000;
            _bytes.AddOrUpdate(name, bytes, (_, b) => b + bytes);
        }
    }
}
