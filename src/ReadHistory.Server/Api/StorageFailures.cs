namespace ReadHistory.Server.Api;

/// <summary>Awaits storage work and rethrows storage failures as the gRPC status callers can act on (see <see cref="StorageStatus"/>).</summary>
internal static class StorageFailures
{
    /// <summary>Awaits a task, mapping storage exceptions to RpcException.</summary>
    public static async Task<T> Guard<T>(Task<T> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (Exception e) when (StorageStatus.From(e) is { } status)
        {
            throw status;
        }
    }

    /// <summary>Awaits a value task, mapping storage exceptions to RpcException.</summary>
    public static async Task<T> Guard<T>(ValueTask<T> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (Exception e) when (StorageStatus.From(e) is { } status)
        {
            throw status;
        }
    }

    /// <summary>Awaits a task, mapping storage exceptions to RpcException.</summary>
    public static async Task Guard(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (StorageStatus.From(e) is { } status)
        {
            throw status;
        }
    }
}
