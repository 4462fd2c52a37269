namespace ReadHistory.Rpc.Internal;

/// <summary>
/// The <c>grpc-timeout</c> header (PROTOCOL-HTTP2.md): <c>TimeoutValue TimeoutUnit</c>, where the value is a positive
/// integer of at most 8 ASCII digits and the unit one of H (hours), M (minutes), S (seconds), m (ms), u (µs), n (ns).
/// </summary>
internal static class GrpcTimeout
{
    private const int MaxDigits = 8;
    private const long MaxValue = 99_999_999;

    /// <summary>Parses a header value; false for anything that is not of the grammar above.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length < 2 || value.Length > MaxDigits + 1)
        {
            return false;
        }

        long number = 0;
        var digits = value[..^1];
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            number = (number * 10) + (c - '0');
        }

        long ticksPerUnit;
        switch (value[^1])
        {
            case 'H': ticksPerUnit = TimeSpan.TicksPerHour; break;
            case 'M': ticksPerUnit = TimeSpan.TicksPerMinute; break;
            case 'S': ticksPerUnit = TimeSpan.TicksPerSecond; break;
            case 'm': ticksPerUnit = TimeSpan.TicksPerMillisecond; break;
            case 'u': ticksPerUnit = TimeSpan.TicksPerMicrosecond; break;
            case 'n':
                // 100 ns per tick: round up so that a positive timeout never becomes zero.
                timeout = TimeSpan.FromTicks((number + 99) / 100);
                return true;
            default: return false;
        }

        // 99,999,999 hours is 3.6e18 ticks, inside TimeSpan's range: no overflow is possible.
        timeout = TimeSpan.FromTicks(number * ticksPerUnit);
        return true;
    }

    /// <summary>Formats a timeout in the finest unit whose value fits 8 digits, rounding up; zero or less becomes <c>1n</c>.</summary>
    public static string Format(TimeSpan timeout)
    {
        var ticks = timeout.Ticks;
        if (ticks <= 0)
        {
            return "1n";
        }

        if (ticks <= MaxValue / 100)
        {
            return Text(ticks * 100, 'n');
        }

        ReadOnlySpan<long> perUnit = [TimeSpan.TicksPerMicrosecond, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour];
        ReadOnlySpan<char> units = ['u', 'm', 'S', 'M', 'H'];
        for (var i = 0; i < perUnit.Length; i++)
        {
            var value = (ticks + perUnit[i] - 1) / perUnit[i];
            if (value <= MaxValue)
            {
                return Text(value, units[i]);
            }
        }

        return Text(MaxValue, 'H');
    }

    private static string Text(long value, char unit) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value}{unit}");
}
