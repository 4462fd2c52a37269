namespace ReadHistory.Rpc.Tests.Infrastructure;

/// <summary>Every awaited task in a test has a timeout, so no test hangs.</summary>
public static class TaskTimeoutExtensions
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Limit);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Limit);
}
