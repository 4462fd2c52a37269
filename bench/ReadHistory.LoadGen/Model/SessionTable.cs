namespace ReadHistory.LoadGen.Model;

/// <summary>
/// Simulated clients: client s has the sticky session id "lg-s" and holds one user (drawn from the Zipf popularity)
/// for <see cref="WorkloadOptions.SessionLength"/> of its calls, then moves on. The user of a client's n-th epoch is a
/// pure function of the seed, so the call stream is the same in every run with that seed.
/// </summary>
internal sealed class SessionTable
{
    private readonly WorkloadModel _model;
    private readonly long[] _epochs;
    private readonly string[] _ids;

    /// <summary>The clients of <paramref name="model"/>.</summary>
    public SessionTable(WorkloadModel model)
    {
        _model = model;
        _epochs = new long[model.Options.Sessions];
        _ids = new string[model.Options.Sessions];
        for (var i = 0; i < _ids.Length; i++)
        {
            _ids[i] = "lg-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Clients.</summary>
    public int Count => _ids.Length;

    /// <summary>Session id of client <paramref name="session"/>.</summary>
    public string SessionId(int session) => _ids[session];

    /// <summary>Client and user of check number <paramref name="sequence"/>; advances that client's epoch.</summary>
    public (int Session, ulong UserId) ForCheck(long sequence)
    {
        var session = (int)(sequence % Count);
        var epoch = sequence / Count / _model.Options.SessionLength;
        InterlockedMax(ref _epochs[session], epoch);
        return (session, UserOf(session, epoch));
    }

    /// <summary>Client and user of write number <paramref name="sequence"/>: the user the client holds now.</summary>
    public (int Session, ulong UserId) ForWrite(long sequence)
    {
        var session = (int)(Mix64Index(sequence) % (ulong)Count);
        var epoch = Math.Max(Volatile.Read(ref _epochs[session]), sequence / Count / _model.Options.SessionLength);
        return (session, UserOf(session, epoch));
    }

    /// <summary>The user client <paramref name="session"/> holds in epoch <paramref name="epoch"/>.</summary>
    public ulong UserOf(int session, long epoch)
    {
        var rng = new SplitMix(_model.Options.Seed, 0x5e55_1011UL + (ulong)session, (ulong)epoch);
        return _model.UserId(_model.Popularity.Sample(rng.NextUnit()));
    }

    private ulong Mix64Index(long sequence) => ReadHistory.Core.Routing.Mix64.Combine(_model.Options.Seed ^ 0x77, (ulong)sequence);

    private static void InterlockedMax(ref long location, long value)
    {
        long seen;
        while (value > (seen = Volatile.Read(ref location)) && Interlocked.CompareExchange(ref location, value, seen) != seen)
        {
        }
    }
}
