namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>Why a session's socket was closed under it (the pending read or write then fails with this reason).</summary>
internal enum AbortReason
{
    /// <summary>Not aborted.</summary>
    None,

    /// <summary>Connecting (TCP, TLS, authentication) took longer than Connection Timeout.</summary>
    ConnectTimeout,

    /// <summary>The server sent nothing within <see cref="ReplicationSession.ReadTimeout"/> (heartbeats included).</summary>
    ReadTimeout,

    /// <summary>The caller's token was cancelled while connecting.</summary>
    Cancelled,

    /// <summary>The session was disposed.</summary>
    Disposed,
}
