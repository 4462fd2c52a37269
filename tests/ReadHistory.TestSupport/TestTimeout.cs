namespace ReadHistory.TestSupport;

/// <summary>The one bound for awaited work in tests, so that no test can hang.</summary>
public static class TestTimeout
{
    /// <summary>The default bound for one awaited operation or one wait in a test.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>Awaits a task with the default bound; throws TimeoutException past it.</summary>
    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    /// <summary>Awaits a task with the default bound; throws TimeoutException past it.</summary>
    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);
}
