using System.Net.Sockets;
using MySqlConnector;
using ReadHistory.Server.Storage;
using Xunit;

namespace ReadHistory.Server.Tests.Storage;

public sealed class StorageErrorsTests
{
    public static TheoryData<string, bool> Cases() => new()
    {
        { "deadlock", true },
        { "lock wait timeout", true },
        { "too many connections", true },
        { "unable to connect or pool exhausted", true },
        { "connection killed", true },
        { "query interrupted", true },
        { "command timeout", true },
        { "connection lost mid-command", true },
        { "socket error", true },
        { "no such table", false },
        { "syntax error", false },
        { "access denied", false },
        { "cancelled", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transient_errors_are_retried_and_permanent_ones_are_not(string name, bool transient)
    {
        Exception error = name switch
        {
            "deadlock" => MySqlErrors.Create(MySqlErrorCode.LockDeadlock, "40001", name),
            "lock wait timeout" => MySqlErrors.Create(MySqlErrorCode.LockWaitTimeout, "HY000", name),
            "too many connections" => MySqlErrors.Create(MySqlErrorCode.ConnectionCountError, "08004", name),
            "unable to connect or pool exhausted" => MySqlErrors.Create(MySqlErrorCode.UnableToConnectToHost, null, name),
            "connection killed" => MySqlErrors.Create((MySqlErrorCode)1927, "70100", name),
            "query interrupted" => MySqlErrors.Create(MySqlErrorCode.QueryInterrupted, "70100", name),
            "command timeout" => MySqlErrors.Create(MySqlErrorCode.CommandTimeoutExpired, null, name),
            "connection lost mid-command" => MySqlErrors.ConnectionLost(name),
            "socket error" => new SocketException((int)SocketError.ConnectionReset),
            "no such table" => MySqlErrors.Create(MySqlErrorCode.NoSuchTable, "42S02", name),
            "syntax error" => MySqlErrors.Create(MySqlErrorCode.ParseError, "42000", name),
            "access denied" => MySqlErrors.Create(MySqlErrorCode.AccessDenied, "28000", name),
            _ => new OperationCanceledException(name),
        };

        Assert.Equal(transient, StorageErrors.IsTransient(error));
    }
}
