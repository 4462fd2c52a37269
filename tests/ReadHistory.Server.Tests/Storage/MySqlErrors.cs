using System.Reflection;
using MySqlConnector;

namespace ReadHistory.Server.Tests.Storage;

/// <summary>
/// Builds the MySqlException MySqlConnector would throw, for fake flushers: the package keeps its constructors internal
/// (it raises them itself), so the one taking (code, SQLSTATE, message, inner) is called by reflection.
/// </summary>
internal static class MySqlErrors
{
    private static readonly ConstructorInfo Constructor = typeof(MySqlException).GetConstructor(
        BindingFlags.Instance | BindingFlags.NonPublic, [typeof(MySqlErrorCode), typeof(string), typeof(string), typeof(Exception)])
        ?? throw new InvalidOperationException("MySqlException(MySqlErrorCode, string?, string, Exception?) not found");

    public static MySqlException Create(MySqlErrorCode code, string? sqlState, string message, Exception? inner = null) =>
        (MySqlException)Constructor.Invoke([code, sqlState, message, inner]);

    /// <summary>What MySqlConnector throws when the server goes away during a command.</summary>
    public static MySqlException ConnectionLost(string message) =>
        Create(MySqlErrorCode.None, null, message, new EndOfStreamException("An incomplete response was received from the server"));
}
