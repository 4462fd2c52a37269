using ReadHistory.Server.Cdc;
using StackExchange.Redis;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class RedisConnectorTests
{
    [Fact]
    public void The_shared_connection_starts_without_redis_speaks_resp2_and_names_the_node()
    {
        var configuration = RedisConnector.Configure(new RedisOptions { Configuration = "redis:6379,protocol=resp3,abortConnect=true" }, "readhistory-cache-0", TimeSpan.Zero);

        Assert.False(configuration.AbortOnConnectFail);
        Assert.Equal(RedisProtocol.Resp2, configuration.Protocol);
        Assert.Equal("readhistory-cache-0", configuration.ClientName);
        Assert.Equal(5000, configuration.AsyncTimeout);
    }

    [Fact]
    public void Settings_in_the_configuration_string_win_over_the_defaults()
    {
        var configuration = RedisConnector.Configure(new RedisOptions { Configuration = "redis:6379,asyncTimeout=800,connectTimeout=900,name=mine" }, "readhistory-cache-0", TimeSpan.Zero);

        Assert.Equal(800, configuration.AsyncTimeout);
        Assert.Equal(900, configuration.ConnectTimeout);
        Assert.Equal("mine", configuration.ClientName);
    }

    [Fact]
    public void The_tail_connection_times_out_only_after_its_longest_block()
    {
        var configuration = RedisConnector.Configure(new RedisOptions { Configuration = "redis:6379,asyncTimeout=1000" }, "readhistory-cache 0", TimeSpan.FromSeconds(5));

        Assert.Equal(6000, configuration.AsyncTimeout);
        Assert.Equal("readhistory-cache-0-tail", configuration.ClientName);
    }

    [Fact]
    public void The_password_from_a_secret_wins_over_the_strings_and_the_acl_user_and_tls_stay()
    {
        var configuration = RedisConnector.Configure(new RedisOptions { Configuration = "redis:6380,ssl=true,user=readhistory,password=stale", Password = "from-secret" }, "readhistory-cdc", TimeSpan.Zero);

        Assert.Equal("from-secret", configuration.Password);
        Assert.Equal("readhistory", configuration.User);
        Assert.True(configuration.Ssl);
    }

    [Fact]
    public void The_second_tier_on_the_coherence_redis_keeps_its_password_and_a_dedicated_redis_uses_its_own_string()
    {
        var coherence = new RedisOptions { Configuration = "redis:6380,ssl=true,user=readhistory", Password = "from-secret" };

        var shared = RedisConnector.Configure(RedisConnector.SnapshotOptions(coherence, snapshotConfiguration: ""), "readhistory-cache-0-t2", TimeSpan.Zero);
        var dedicated = RedisConnector.Configure(RedisConnector.SnapshotOptions(coherence, "t2-redis:6379,password=its-own"), "readhistory-cache-0-t2", TimeSpan.Zero);

        Assert.Equal("from-secret", shared.Password);
        Assert.Equal("readhistory", shared.User);
        Assert.Equal("its-own", dedicated.Password);
        Assert.Equal("Unspecified/t2-redis:6379", Assert.Single(dedicated.EndPoints).ToString());
    }
}
