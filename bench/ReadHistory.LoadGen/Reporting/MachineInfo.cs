using System.Diagnostics;
using System.Globalization;

namespace ReadHistory.LoadGen.Reporting;

/// <summary>Where and when a run happened: cores, memory, OS, commit, command line, date.</summary>
internal sealed record MachineInfo(int Cores, string Memory, string OperatingSystem, string Commit, string CommandLine, string Date)
{
    /// <summary>Reads them from this machine and repository.</summary>
    public static MachineInfo Collect(string[] args)
    {
        var memory = "?";
        var os = System.Runtime.InteropServices.RuntimeInformation.OSDescription;
        try
        {
            var total = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (total is not null)
            {
                var kib = long.Parse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                memory = (kib / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " GiB";
            }

            var pretty = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (pretty is not null)
            {
                os = pretty["PRETTY_NAME=".Length..].Trim('"');
            }
        }
        catch (IOException)
        {
            // Not Linux: keep the runtime's description.
        }

        return new MachineInfo(Environment.ProcessorCount, memory, os, Git("rev-parse --short HEAD"), "readhistory-loadgen " + string.Join(' ', args),
            DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
    }

    private static string Git(string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : "?";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }
}
