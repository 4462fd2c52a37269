namespace ReadHistory.Server.Auth;

/// <summary>Source-generated log methods of authentication (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.AuthKeysReloaded, Level = LogLevel.Information, Message = "API keys and client certificates reloaded: {Count} keys and {Certificates} certificates in force")]
    public static partial void KeysReloaded(ILogger logger, int count, int certificates);

    [LoggerMessage(EventId = EventIds.AuthKeysReloadRefused, Level = LogLevel.Error, Message = "API keys not reloaded, the {Count} in force stay: {Problems}")]
    public static partial void KeysReloadRefused(ILogger logger, string problems, int count);
}
