using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xunit;

namespace ReadHistory.Cli.Tests;

public sealed class TokenAndKeysTests
{
    [Fact]
    public async Task The_token_option_reaches_the_client_from_anywhere_on_the_command_line()
    {
        var client = new FakeReadHistoryClient();

        await CliRun.RunAsync(client, "check", "--user", "1", "--ids", "1", "--token", "rh_abc");

        Assert.Equal("rh_abc", client.Token);
    }

    [Fact]
    public async Task Without_the_option_the_token_comes_from_READHISTORY_TOKEN()
    {
        var client = new FakeReadHistoryClient();
        var before = Environment.GetEnvironmentVariable("READHISTORY_TOKEN");
        Environment.SetEnvironmentVariable("READHISTORY_TOKEN", "rh_from_env");
        try
        {
            await CliRun.RunAsync(client, "check", "--user", "1", "--ids", "1");
        }
        finally
        {
            Environment.SetEnvironmentVariable("READHISTORY_TOKEN", before);
        }

        Assert.Equal("rh_from_env", client.Token);
    }

    [Fact]
    public async Task Keys_new_prints_a_fresh_key_with_its_sha256_and_configuration()
    {
        var first = await CliRun.RunAsync(new FakeReadHistoryClient(), "keys", "new", "--id", "ranker", "--tenant", "feed", "--tenant", "feed-eu", "--scopes", "read,write", "--json");
        var second = await CliRun.RunAsync(new FakeReadHistoryClient(), "keys", "new", "--id", "ranker", "--tenant", "feed", "--scopes", "read", "--json");
        var text = await CliRun.RunAsync(new FakeReadHistoryClient(), "keys", "new", "--id", "ranker", "--tenant", "feed", "--scopes", "forget");

        using var printed = JsonDocument.Parse(first.Output);
        var key = printed.RootElement.GetProperty("key").GetString()!;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), printed.RootElement.GetProperty("sha256").GetString());
        Assert.Equal(["feed", "feed-eu"], printed.RootElement.GetProperty("tenants").EnumerateArray().Select(static t => t.GetString()));
        Assert.NotEqual(key, JsonDocument.Parse(second.Output).RootElement.GetProperty("key").GetString());
        Assert.True(key.Length >= 40, key);
        Assert.Contains("ReadHistory__Auth__Keys__ranker__Scopes__0=forget", text.Output, StringComparison.Ordinal);
        Assert.Contains("ReadHistory__Auth__Keys__ranker__Tenants__0=feed", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_new_refuses_an_unknown_scope()
    {
        var run = await CliRun.RunAsync(new FakeReadHistoryClient(), "keys", "new", "--id", "ranker", "--tenant", "feed", "--scopes", "read,admin");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'admin'", run.Error, StringComparison.Ordinal);
    }
}
