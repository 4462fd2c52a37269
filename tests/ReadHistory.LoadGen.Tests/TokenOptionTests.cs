using System.CommandLine;
using Xunit;

namespace ReadHistory.LoadGen.Tests;

public sealed class TokenOptionTests
{
    [Fact]
    public void The_token_option_becomes_the_service_targets_api_key()
    {
        var options = new LoadGenOptions();
        var command = new RootCommand();
        options.AddTargets(command);

        var given = options.BindTargets(command.Parse(["--token", "rh_load"]));

        Assert.Equal("rh_load", given.Token);
    }
}
