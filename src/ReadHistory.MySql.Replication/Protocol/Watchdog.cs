using System.Collections.Concurrent;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>
/// One timer for every session's I/O deadline: a network wait stores its deadline in a field (two writes per wait,
/// no timer per read), and this timer checks them every 100 ms and aborts what has overrun.
/// </summary>
internal static class Watchdog
{
    private static readonly ConcurrentDictionary<ReplicationSession, byte> Sessions = new();
    private static readonly Lock StartLock = new();
    private static Timer? _timer;

    public static void Register(ReplicationSession session)
    {
        Sessions.TryAdd(session, 0);
        if (_timer is null)
        {
            lock (StartLock)
            {
                _timer ??= new Timer(static _ => Tick(), null, 100, 100);
            }
        }
    }

    public static void Unregister(ReplicationSession session) => Sessions.TryRemove(session, out _);

    private static void Tick()
    {
        var now = Environment.TickCount64;
        foreach (var session in Sessions.Keys)
        {
            try
            {
                session.CheckDeadline(now);
            }
            catch (Exception)
            {
                // One session's failure must not stop the watchdog for the others.
            }
        }
    }
}
