using System.Diagnostics;
using System.Globalization;

namespace ReadHistory.LoadGen.Measure;

/// <summary>CPU seconds used by one process between two samples, as cores (CPU seconds per wall second).</summary>
internal sealed record CpuFigure(string Name, double Cores);

/// <summary>
/// Samples the CPU time of the generator itself and of named processes (the service, the database, Redis) so that a
/// run says where the 2 cores went: a target that looks slow while the generator used a whole core is not measured.
/// </summary>
internal sealed class CpuWatch
{
    private readonly (string Name, int Pid)[] _processes;
    private double[] _start = [];
    private long _startTimestamp;

    /// <summary>Watches the generator and <paramref name="processes"/>.</summary>
    public CpuWatch(IReadOnlyList<(string Name, int Pid)> processes) => _processes = [.. processes];

    /// <summary>Parses <c>name=pid,name=pid</c>; throws naming the bad entry.</summary>
    public static IReadOnlyList<(string Name, int Pid)> Parse(string text)
    {
        var list = new List<(string, int)>();
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !int.TryParse(entry.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            {
                throw new FormatException($"--watch: '{entry}' is not name=pid");
            }

            list.Add((entry[..eq], pid));
        }

        return list;
    }

    /// <summary>Takes the first sample.</summary>
    public void Start()
    {
        _startTimestamp = Stopwatch.GetTimestamp();
        _start = Sample();
    }

    /// <summary>Takes the second sample and returns each process's cores since <see cref="Start"/> (generator first; a process gone is left out).</summary>
    public IReadOnlyList<CpuFigure> Stop()
    {
        var end = Sample();
        var wall = Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds;
        var figures = new List<CpuFigure>();
        for (var i = 0; i < end.Length; i++)
        {
            if (wall > 0 && !double.IsNaN(end[i]) && !double.IsNaN(_start[i]))
            {
                figures.Add(new CpuFigure(i == 0 ? "generator" : _processes[i - 1].Name, (end[i] - _start[i]) / wall));
            }
        }

        return figures;
    }

    /// <summary>The 1-minute load average of the machine (NaN when unknown).</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
        catch (UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }

    /// <summary>CPU seconds of a process from /proc/pid/stat (utime + stime, in USER_HZ = 100 ticks/s); NaN when gone.</summary>
    internal static double ProcessCpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // Fields after the command name (which may hold spaces) start after the last ')': state is field 3.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks / 100.0;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    private double[] Sample()
    {
        var values = new double[_processes.Length + 1];
        using (var self = Process.GetCurrentProcess())
        {
            values[0] = self.TotalProcessorTime.TotalSeconds;
        }

        for (var i = 0; i < _processes.Length; i++)
        {
            values[i + 1] = ProcessCpuSeconds(_processes[i].Pid);
        }

        return values;
    }
}
