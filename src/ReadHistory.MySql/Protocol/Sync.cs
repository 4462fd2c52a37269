namespace ReadHistory.MySql.Protocol;

/// <summary>
/// Result of an operation started with <see cref="IOBehavior.Synchronous"/>: it has normally completed already (blocking
/// socket I/O); the rare asynchronous part (connect, TLS) is waited for on its task.
/// </summary>
internal static class Sync
{
    public static T Wait<T>(ValueTask<T> task) => task.IsCompleted ? task.Result : task.AsTask().GetAwaiter().GetResult();

    public static void Wait(ValueTask task)
    {
        if (task.IsCompleted)
        {
            task.GetAwaiter().GetResult();
        }
        else
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }
}
