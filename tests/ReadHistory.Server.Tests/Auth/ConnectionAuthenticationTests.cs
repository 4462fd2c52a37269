using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.TestSupport;
using ReadHistory.Server.Auth;
using Xunit;

namespace ReadHistory.Server.Tests.Auth;

/// <summary>
/// The per-connection memo of authentication: a call presenting the credential of the connection's last successful call
/// is not judged again, and anything else is (another key, no key, a failure, a reload of the keys, an expired
/// certificate's time, a connection without the memo).
/// </summary>
public sealed class ConnectionAuthenticationTests
{
    private const string KeyA = "Bearer rh_key_a";
    private const string KeyB = "Bearer rh_key_b";
    private readonly CountingAuthentication _authentication = new();
    private readonly ManualTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly IConfigurationRoot _configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["ReadHistory:Auth:Mode"] = "ApiKeys",
        ["ReadHistory:Auth:Keys:a:Sha256"] = ApiKeyRing.HashOf("rh_key_a"),
        ["ReadHistory:Auth:Keys:a:Tenants:0"] = "feed",
        ["ReadHistory:Auth:Keys:a:Scopes:0"] = "read",
    }).Build();

    [Fact]
    public async Task The_same_key_on_one_connection_is_judged_once_and_every_call_gets_its_principal()
    {
        using var ring = Ring();
        var connection = new ConnectionAuthentication();

        var first = await CallAsync(ring, connection, KeyA);
        var second = await CallAsync(ring, connection, KeyA);

        Assert.Equal(1, _authentication.Calls);
        Assert.Equal("a", first.User.Identity!.Name);
        Assert.Same(first.User, second.User);
        Assert.True(second.User.Identity!.IsAuthenticated);
    }

    [Fact]
    public async Task Another_key_no_key_and_a_key_again_are_each_judged_on_the_same_connection()
    {
        using var ring = Ring();
        var connection = new ConnectionAuthentication();

        await CallAsync(ring, connection, KeyA);
        var other = await CallAsync(ring, connection, KeyB);
        var none = await CallAsync(ring, connection, header: null);
        await CallAsync(ring, connection, KeyA);

        Assert.Equal(4, _authentication.Calls);
        Assert.Equal("b", other.User.Identity!.Name);
        Assert.False(none.User.Identity?.IsAuthenticated ?? false);
    }

    [Fact]
    public async Task A_failure_is_never_remembered()
    {
        using var ring = Ring();
        var connection = new ConnectionAuthentication();
        _authentication.Fail = true;

        await CallAsync(ring, connection, KeyA);
        var second = await CallAsync(ring, connection, KeyA);

        Assert.Equal(2, _authentication.Calls);
        Assert.False(second.User.Identity?.IsAuthenticated ?? false);
    }

    [Fact]
    public async Task A_reload_of_the_keys_judges_the_next_call_again()
    {
        using var ring = Ring();
        var connection = new ConnectionAuthentication();
        await CallAsync(ring, connection, KeyA);

        _configuration.Reload();
        await CallAsync(ring, connection, KeyA);
        await CallAsync(ring, connection, KeyA);

        Assert.Equal(2, _authentication.Calls);
    }

    [Fact]
    public void A_remembered_result_ends_at_its_time()
    {
        using var ring = Ring();
        var connection = new ConnectionAuthentication();
        var result = AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "cert")], "ClientCertificate")), "ClientCertificate"));
        connection.Remember(null, ring.Generation, result, _time.GetUtcNow().AddMinutes(1));

        var before = connection.Find(null, ring.Generation, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromMinutes(1));
        var after = connection.Find(null, ring.Generation, _time.GetUtcNow());

        Assert.Same(result, before);
        Assert.Null(after);
    }

    [Fact]
    public async Task A_connection_without_the_memo_is_judged_on_every_call()
    {
        using var ring = Ring();

        await CallAsync(ring, connection: null, KeyA);
        await CallAsync(ring, connection: null, KeyA);

        Assert.Equal(2, _authentication.Calls);
    }

    private ApiKeyRing Ring() => new(new AuthOptions(), _configuration, NullLogger.Instance);

    private async Task<HttpContext> CallAsync(ApiKeyRing ring, ConnectionAuthentication? connection, string? header)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddSingleton<IAuthenticationService>(_authentication).BuildServiceProvider(),
        };
        if (connection is not null)
        {
            context.Features.Set(connection);
        }

        if (header is not null)
        {
            context.Request.Headers.Authorization = header;
        }

        var middleware = new ConnectionAuthenticationMiddleware(static _ => Task.CompletedTask, ring, _time);
        await middleware.InvokeAsync(context);
        return context;
    }

    // The scheme's judgement, counted: a bearer header names the principal after its last letter; none is no result.
    private sealed class CountingAuthentication : IAuthenticationService
    {
        public int Calls { get; private set; }

        public bool Fail { get; set; }

        public Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string? scheme)
        {
            Calls++;
            string? header = context.Request.Headers.Authorization;
            if (header is null)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            if (Fail)
            {
                return Task.FromResult(AuthenticateResult.Fail("the API key is not in force"));
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, header[^1..])], "ApiKey");
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), "ApiKey")));
        }

        public Task ChallengeAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => Task.CompletedTask;

        public Task ForbidAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => Task.CompletedTask;

        public Task SignInAsync(HttpContext context, string? scheme, ClaimsPrincipal principal, AuthenticationProperties? properties) => Task.CompletedTask;

        public Task SignOutAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => Task.CompletedTask;
    }
}
