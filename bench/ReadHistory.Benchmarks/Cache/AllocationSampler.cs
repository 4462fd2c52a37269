using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// Listens to the runtime's GC events in-process: counts collections per generation and sums the sampled allocation
/// ticks (one about every 100 KB allocated) by type, to see who allocates without an external profiler.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private long _gen0;
    private long _gen1;
    private long _gen2;

    /// <summary>Sampled bytes by allocated type.</summary>
    public ConcurrentDictionary<string, long> Bytes { get; } = new(StringComparer.Ordinal);

    /// <summary>Gen0 collections seen.</summary>
    public long Gen0 => Interlocked.Read(ref _gen0);

    /// <summary>Gen1 collections seen.</summary>
    public long Gen1 => Interlocked.Read(ref _gen1);

    /// <summary>Gen2 collections seen.</summary>
    public long Gen2 => Interlocked.Read(ref _gen2);

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
        var name = eventData.EventName ?? string.Empty;
        if (name.StartsWith("GCAllocationTick", StringComparison.Ordinal))
        {
            var type = eventData.Payload![eventData.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
            if (type.EndsWith("[]", StringComparison.Ordinal) && eventData.PayloadNames.IndexOf("ObjectSize") is var sizeAt and >= 0)
            {
                // Arrays by size class (the object that crossed the tick), to tell buffers from filters.
                var size = Convert.ToInt64(eventData.Payload[sizeAt], CultureInfo.InvariantCulture);
                type += string.Create(CultureInfo.InvariantCulture, $" of {(size < 1024 ? $"{size} B" : size < (1 << 20) ? $"{size >> 10} KiB" : $"{size >> 20} MiB")}");
            }

            var amount = Convert.ToInt64(eventData.Payload![eventData.PayloadNames!.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
            Bytes.AddOrUpdate(type, amount, (_, total) => total + amount);
        }
        else if (name.StartsWith("GCStart", StringComparison.Ordinal))
        {
            switch (Convert.ToInt32(eventData.Payload![eventData.PayloadNames!.IndexOf("Depth")], CultureInfo.InvariantCulture))
            {
                case 0:
                    Interlocked.Increment(ref _gen0);
                    break;
                case 1:
                    Interlocked.Increment(ref _gen1);
                    break;
                default:
                    Interlocked.Increment(ref _gen2);
                    break;
            }
        }
    }
}
