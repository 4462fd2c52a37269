using System.Collections.Frozen;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Primitives;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Auth;

/// <summary>
/// The API keys in force, by the SHA-256 of the key, and the client certificates in force, by their SHA-256
/// thumbprint, each with its principal built once. Loaded from ReadHistory:Auth:Keys and :Certificates at start and
/// again whenever the configuration reloads (a rewritten appsettings file, a
/// Kubernetes Secret mounted as a configuration file): a valid reload replaces the whole set at once, an invalid one is
/// refused and logged and the keys in force stay, as the proxy does with a bad topology.
/// </summary>
/// <remarks>
/// Not an IOptionsMonitor with a validator: the monitor validates inside the configuration's reload callback, and a
/// failure there is thrown on the file watcher's thread instead of being refused.
/// </remarks>
internal sealed class ApiKeyRing : IDisposable
{
    private readonly ILogger _logger;
    private readonly IDisposable? _watch;
    private FrozenDictionary<string, Entry> _byHash;
    private FrozenDictionary<string, ClaimsPrincipal> _byThumbprint;
    private int _generation;
    private long _lookups;

    /// <summary>A ring of <paramref name="options"/>' keys; with <paramref name="configuration"/>, re-read on every reload.</summary>
    public ApiKeyRing(AuthOptions options, IConfiguration? configuration, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        _byHash = Build(options);
        _byThumbprint = BuildCertificates(options);
        if (configuration is not null)
        {
            _watch = ChangeToken.OnChange(configuration.GetReloadToken, () => Reload(configuration));
        }
    }

    /// <summary>Keys in force.</summary>
    public int Count => _byHash.Count;

    /// <summary>Client certificates in force.</summary>
    public int CertificateCount => _byThumbprint.Count;

    /// <summary>
    /// Bumped by every reload that swaps the keys and certificates in force: a result remembered under an older
    /// generation (<see cref="ConnectionAuthentication"/>) is judged again.
    /// </summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>The principal of a client certificate (already chained to the client CA), or null for a certificate not in force.</summary>
    public ClaimsPrincipal? FindCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Span<char> hex = stackalloc char[2 * SHA256.HashSizeInBytes];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(certificate.RawDataMemory.Span, hash);
        Convert.TryToHexStringLower(hash, hex, out _);
        return _byThumbprint.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(hex, out var principal) ? principal : null;
    }

    /// <summary>Keys looked up since start: one per call the key scheme judged (a call judged from its connection's memo is not one).</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    /// <summary>The principal of <paramref name="key"/> (the bearer token as sent), or null for a key not in force.</summary>
    public ClaimsPrincipal? Find(ReadOnlySpan<char> key) => FindEntry(key)?.Principal;

    /// <summary>
    /// The authentication result of <paramref name="key"/> (the bearer token as sent), made once per key when the keys
    /// are loaded, or null for a key not in force: a call allocates no ticket or result of its own.
    /// </summary>
    public Task<AuthenticateResult>? Authenticate(ReadOnlySpan<char> key) => FindEntry(key)?.Result;

    private Entry? FindEntry(ReadOnlySpan<char> key)
    {
        Interlocked.Increment(ref _lookups);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetByteCount(key);
        var buffer = bytes <= 512 ? stackalloc byte[bytes] : new byte[bytes];
        Encoding.UTF8.GetBytes(key, buffer);
        SHA256.HashData(buffer, hash);
        Span<char> hex = stackalloc char[2 * SHA256.HashSizeInBytes];
        Convert.TryToHexStringLower(hash, hex, out _);
        return _byHash.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(hex, out var entry) ? entry : null;
    }

    /// <summary>The SHA-256 of a key as configured (lower-case hex).</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <inheritdoc />
    public void Dispose() => _watch?.Dispose();

    private void Reload(IConfiguration configuration)
    {
        if (ReloadedOptions.TryRead<AuthOptions>(configuration, AuthOptions.Section, static (o, p) => o.Validate(p), out var problems) is not { } options)
        {
            Log.KeysReloadRefused(_logger, problems, _byHash.Count);
            return;
        }

        // Every reload of the configuration lands here (a topology change too): swap always, log only a new set of keys.
        var keys = Build(options);
        var certificates = BuildCertificates(options);
        var changed = !keys.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(_byHash.Keys)
            || !certificates.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(_byThumbprint.Keys);
        Volatile.Write(ref _byHash, keys);
        Volatile.Write(ref _byThumbprint, certificates);
        Interlocked.Increment(ref _generation);
        if (changed)
        {
            Log.KeysReloaded(_logger, keys.Count, certificates.Count);
        }
    }

    private static FrozenDictionary<string, ClaimsPrincipal> BuildCertificates(AuthOptions options) =>
        options.Certificates.ToFrozenDictionary(
            static c => c.Value.NormalizedSha256,
            static c => new ClaimsPrincipal(new CallerIdentity(c.Key, c.Value.Tenants, c.Value.Scopes, ClientCertificateScheme.Name)),
            StringComparer.Ordinal);

    private static FrozenDictionary<string, Entry> Build(AuthOptions options) =>
        options.Keys.ToFrozenDictionary(
            static k => k.Value.Sha256.ToLowerInvariant(),
            static k => new Entry(new ClaimsPrincipal(new CallerIdentity(k.Key, k.Value))),
            StringComparer.Ordinal);

    // A key's principal and its successful authentication, shared by every call that presents the key (nothing writes
    // to a ticket's properties on this path: no sign-in, no cookies).
    private sealed class Entry(ClaimsPrincipal principal)
    {
        public ClaimsPrincipal Principal { get; } = principal;

        public Task<AuthenticateResult> Result { get; } = Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, ApiKeyAuthenticationHandler.SchemeName)));
    }
}
