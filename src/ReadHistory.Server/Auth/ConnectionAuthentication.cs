using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;

namespace ReadHistory.Server.Auth;

/// <summary>
/// A connection feature of the public listener: the last successful authentication of a call on this connection, with
/// the credential it judged (the authorization header as sent, or none: the connection's client certificate), the
/// key ring's generation and the time it holds until. A later call on the connection that presents the same credential
/// under the same generation is given that result without running the authentication handler again
/// (<see cref="ConnectionAuthenticationMiddleware"/>).
/// </summary>
/// <remarks>
/// One entry per connection: calls that alternate credentials on one connection (a front proxy multiplexing callers)
/// are each judged by the handler, as without the memo. The credential is compared in fixed time, so a call on a shared
/// connection learns nothing of another caller's key from how long a refusal took.
/// </remarks>
internal sealed class ConnectionAuthentication
{
    private Entry? _last;

    /// <summary>The remembered result for <paramref name="header"/> under <paramref name="generation"/> at <paramref name="now"/>, or null.</summary>
    public AuthenticateResult? Find(string? header, int generation, DateTimeOffset now)
    {
        var last = Volatile.Read(ref _last);
        return last is not null && last.Generation == generation && now < last.NotAfter && SameCredential(last.Header, header)
            ? last.Result
            : null;
    }

    /// <summary>Remembers a successful <paramref name="result"/> of <paramref name="header"/>, judged under <paramref name="generation"/>, until <paramref name="notAfter"/>.</summary>
    public void Remember(string? header, int generation, AuthenticateResult result, DateTimeOffset notAfter)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Succeeded)
        {
            Volatile.Write(ref _last, new Entry(header, generation, result, notAfter));
        }
    }

    private static bool SameCredential(string? remembered, string? presented)
    {
        if (remembered is null || presented is null)
        {
            return remembered is null && presented is null;
        }

        return CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(remembered.AsSpan()), MemoryMarshal.AsBytes(presented.AsSpan()));
    }

    private sealed record Entry(string? Header, int Generation, AuthenticateResult Result, DateTimeOffset NotAfter);
}
