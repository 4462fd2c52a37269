using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>Secure by default: anonymous access on a public address is a warning at start, when it is allowed at all.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class AnonymousAccessTests(MariaDbFixture mariaDb)
{
    [Theory]
    [InlineData("0.0.0.0:0", true)]
    [InlineData("127.0.0.1:0", false)]
    public async Task Anonymous_access_allowed_on_a_public_address_is_logged_as_a_warning_at_start(string listen, bool warned)
    {
        var settings = TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), "anon" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:GrpcListen"] = listen;
        settings["ReadHistory:Auth:AllowAnonymous"] = "true";
        var app = ServerHost.Build([], configuration => configuration.AddInMemoryCollection(settings));
        var logs = new LogCapture();
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        try
        {
            await app.StartAsync().DefaultTimeout();
        }
        finally
        {
            await app.StopAsync().DefaultTimeout();
            await app.DisposeAsync();
        }

        Assert.Equal(warned, logs.AtOrAbove(LogLevel.Warning).Any(static l => l.Contains("takes anonymous calls", StringComparison.Ordinal)));
    }
}
