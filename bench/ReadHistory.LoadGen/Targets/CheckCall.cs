namespace ReadHistory.LoadGen.Targets;

/// <summary>One user's check: the candidates in, one answer per candidate out.</summary>
internal sealed class CheckCall(ulong userId, int session, string sessionId, int candidates)
{
    /// <summary>The user.</summary>
    public ulong UserId { get; } = userId;

    /// <summary>The simulated client's index.</summary>
    public int Session { get; } = session;

    /// <summary>The client's sticky session id.</summary>
    public string SessionId { get; } = sessionId;

    /// <summary>Candidate content ids.</summary>
    public ulong[] Ids { get; } = new ulong[candidates];

    /// <summary>The target's answer: true when it reports the candidate read.</summary>
    public bool[] Read { get; } = new bool[candidates];
}
