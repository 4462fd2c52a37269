using Xunit;

namespace ReadHistory.MySql.Tests;

public sealed class ConnectionStringBuilderTests
{
    [Fact]
    public void Defaults_match_MySqlConnector()
    {
        var builder = new MySqlConnectionStringBuilder();
        Assert.Equal(3306u, builder.Port);
        Assert.Equal(MySqlSslMode.Preferred, builder.SslMode);
        Assert.True(builder.Pooling);
        Assert.Equal(0u, builder.MinimumPoolSize);
        Assert.Equal(100u, builder.MaximumPoolSize);
        Assert.Equal(15u, builder.ConnectionTimeout);
        Assert.Equal(30u, builder.DefaultCommandTimeout);
        Assert.False(builder.AllowPublicKeyRetrieval);
        Assert.Equal(180u, builder.ConnectionIdleTimeout);
        Assert.True(builder.ConnectionReset);
    }

    [Fact]
    public void Synonyms_map_to_the_same_option()
    {
        var builder = new MySqlConnectionStringBuilder(
            "Host=db1;port=3307;Uid=u;Pwd=p;Initial Catalog=c;SslMode=VerifyCA;SslCa=/tmp/ca.pem;Min Pool Size=2;Max Pool Size=7;" +
            "Connect Timeout=3;Command Timeout=9;AllowPublicKeyRetrieval=true;ConnectionIdleTimeout=11;ConnectionReset=false");
        Assert.Equal("db1", builder.Server);
        Assert.Equal(3307u, builder.Port);
        Assert.Equal("u", builder.UserID);
        Assert.Equal("p", builder.Password);
        Assert.Equal("c", builder.Database);
        Assert.Equal(MySqlSslMode.VerifyCA, builder.SslMode);
        Assert.Equal("/tmp/ca.pem", builder.SslCa);
        Assert.Equal(2u, builder.MinimumPoolSize);
        Assert.Equal(7u, builder.MaximumPoolSize);
        Assert.Equal(3u, builder.ConnectionTimeout);
        Assert.Equal(9u, builder.DefaultCommandTimeout);
        Assert.True(builder.AllowPublicKeyRetrieval);
        Assert.Equal(11u, builder.ConnectionIdleTimeout);
        Assert.False(builder.ConnectionReset);

        foreach (var key in new[] { "Data Source", "Server", "Host" })
        {
            Assert.Equal("h", new MySqlConnectionStringBuilder(key + "=h").Server);
        }

        foreach (var key in new[] { "User ID", "UserID", "Username", "Uid", "User" })
        {
            Assert.Equal("x", new MySqlConnectionStringBuilder(key + "=x").UserID);
        }
    }

    [Fact]
    public void Unknown_keys_throw()
    {
        Assert.Throws<ArgumentException>(() => new MySqlConnectionStringBuilder("Bogus=1"));
    }

    [Fact]
    public void Round_trips_through_the_connection_string()
    {
        var builder = new MySqlConnectionStringBuilder { Server = "/run/mysqld.sock", UserID = "a", SslMode = MySqlSslMode.None };
        var copy = new MySqlConnectionStringBuilder(builder.ConnectionString);
        Assert.Equal("/run/mysqld.sock", copy.Server);
        Assert.True(copy.IsUnixSocket);
        Assert.Equal(MySqlSslMode.None, copy.SslMode);
    }
}
