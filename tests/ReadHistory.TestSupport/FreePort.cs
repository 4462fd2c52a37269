using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ReadHistory.TestSupport;

/// <summary>
/// Hands out loopback ports for test servers. A port from the kernel (bind to 0) lies in the
/// ephemeral range, where any outgoing connection of the test processes running beside this one may
/// take it before the server binds (mariadbd then fails with "Address already in use"). So ports come
/// from below that range instead, and each is reserved across processes by an exclusive lock on a
/// file (released by the kernel when the process ends), then checked to be bindable.
/// </summary>
public static class FreePort
{
    private const int First = 20_000;
    private const int Count = 12_000;
    private static readonly string LockFolder = Path.Combine(Path.GetTempPath(), "readhistory-tests", "ports");
    private static readonly ConcurrentDictionary<int, FileStream> Held = new();

    /// <summary>A TCP port on 127.0.0.1 that nothing listens on now and no other test process holds.</summary>
    public static int Next()
    {
        Directory.CreateDirectory(LockFolder);
        var (low, high) = EphemeralRange();
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = First + Random.Shared.Next(Count);
            if ((port >= low && port <= high) || Held.ContainsKey(port) || !TryReserve(port))
            {
                continue;
            }

            if (IsBindable(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"no free loopback port found in {First}..{First + Count - 1}");
    }

    private static bool TryReserve(int port)
    {
        try
        {
            // FileShare.None takes an exclusive flock on Unix; a second process fails to open it.
            var stream = new FileStream(Path.Combine(LockFolder, port + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            if (Held.TryAdd(port, stream))
            {
                return true;
            }

            stream.Dispose();
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool IsBindable(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2
                && int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var low)
                && int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var high))
            {
                return (low, high);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or not readable: assume the kernel's default range below.
        }

        return (32_768, 60_999);
    }
}
