using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using ReadHistory.Server.Hosting;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed partial class UnknownKeysTests
{
    [Fact]
    public void A_key_no_option_binds_is_a_problem_naming_the_key_and_the_likely_one()
    {
        var problems = ServerOptionsRegistration.Problems(Shipped(new()
        {
            ["ReadHistory:Cdc:LeaseSeconds"] = "10",
            ["ReadHistory:Cache:BudgetByte"] = "1048576",
            ["ReadHistory:GrpcListn"] = "127.0.0.1:0",
            ["ReadHistory:Storage:Databases"] = "1",
        }));

        Assert.Contains("ReadHistory:Cdc:LeaseSeconds: unknown key (did you mean LeaseTime?)", problems);
        Assert.Contains("ReadHistory:Cache:BudgetByte: unknown key (did you mean BudgetBytes?)", problems);
        Assert.Contains("ReadHistory:GrpcListn: unknown key (did you mean GrpcListen?)", problems);
        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Storage: unknown key", StringComparison.Ordinal));
        Assert.Equal(4, problems.Count(static p => p.Contains(": unknown key", StringComparison.Ordinal)));
    }

    [Fact]
    public void Keys_inside_lists_and_dictionaries_are_checked_against_their_items()
    {
        var problems = ServerOptionsRegistration.Problems(Shipped(new()
        {
            ["ReadHistory:Topology:Pools:0:Name"] = "feed",
            ["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = "http://127.0.0.1:50051",
            ["ReadHistory:Topology:Pools:0:Slots:1:Replica:0"] = "http://127.0.0.1:50052",
            ["ReadHistory:Topology:Pools:feed:Name"] = "feed",
            ["ReadHistory:Proxy:Tenants:push:CallPerSecond"] = "10",
            ["ReadHistory:Proxy:Tenants:push:Burst"] = "10",
            ["ReadHistory:Proxy:Tenants:push:Keys:push-job:CallsPerSecond"] = "100",
            ["ReadHistory:Proxy:Tenants:push:Keys:push-job:Bursts"] = "10",
            ["ReadHistory:Limits:MaxIdsPerCall:X"] = "1",
        }));

        Assert.Contains("ReadHistory:Topology:Pools:0:Slots:1:Replica: unknown key (did you mean Replicas?)", problems);
        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Topology:Pools:feed: unknown key (Pools is a list", StringComparison.Ordinal));
        Assert.Contains("ReadHistory:Proxy:Tenants:push:CallPerSecond: unknown key (did you mean CallsPerSecond?)", problems);
        Assert.Contains("ReadHistory:Proxy:Tenants:push:Keys:push-job:Bursts: unknown key (did you mean Burst?)", problems);
        Assert.Contains("ReadHistory:Limits:MaxIdsPerCall:X: unknown key (MaxIdsPerCall takes a single value)", problems);
        Assert.DoesNotContain(problems, p => p.Contains("push:Burst", StringComparison.Ordinal) || p.Contains("push-job:CallsPerSecond", StringComparison.Ordinal) || p.Contains("Pools:0:Name", StringComparison.Ordinal) || p.Contains("Slots:0:", StringComparison.Ordinal));
    }

    [Fact]
    public void Environment_variables_go_through_the_same_check()
    {
        var prefix = "RH" + Guid.NewGuid().ToString("N")[..8] + "_";
        Environment.SetEnvironmentVariable(prefix + "ReadHistory__Cdc__LeaseSeconds", "10");
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
                .AddEnvironmentVariables(prefix)
                .Build();

            Assert.Contains("ReadHistory:Cdc:LeaseSeconds: unknown key (did you mean LeaseTime?)", ServerOptionsRegistration.Problems(configuration));
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "ReadHistory__Cdc__LeaseSeconds", null);
        }
    }

    [Fact]
    public void The_host_refuses_to_start_on_an_unknown_key_from_the_command_line()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ServerHost.Build(["--ReadHistory:Cdc:LeaseSeconds=00:00:10"], configure: null));

        Assert.Contains("ReadHistory:Cdc:LeaseSeconds: unknown key (did you mean LeaseTime?)", error.Failures);
    }

    [Fact]
    public void Every_key_the_project_ships_is_known()
    {
        // appsettings.json as shipped, plus every ReadHistory__ variable the manifests and scripts set.
        var keys = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var root = RepoRoot();
        var files = Directory.EnumerateFiles(Path.Combine(root, "k8s"), "*", SearchOption.AllDirectories)
            .Where(static f => f.EndsWith(".env", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))
            .Append(Path.Combine(root, "run.sh"))
            .Append(Path.Combine(root, "bench", "run-e2e.sh"))
            .ToList();
        // Comment lines are skipped: they name placeholders (ReadHistory__Section__Key), not keys.
        foreach (var line in files.SelectMany(File.ReadLines).Where(static l => !l.TrimStart().StartsWith('#')))
        {
            foreach (Match match in EnvironmentKey().Matches(line))
            {
                keys[match.Value.Replace("__", ":", StringComparison.Ordinal)] = "x";
            }
        }

        var problems = new List<string>();
        UnknownKeys.Find(Shipped(keys), ServerOptionsRegistration.Sections, problems);

        Assert.Contains("ReadHistory:Cdc:LeaseTime", keys.Keys);
        Assert.Contains("ReadHistory:Topology:Pools:0:Slots:0:Replicas:0", keys.Keys);
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("LeaseSeconds", "LeaseTime")]
    [InlineData("leasetime", "LeaseTime")]
    [InlineData("StreamMaxLen", "StreamMaxLength")]
    [InlineData("Nothing", null)]
    public void The_suggestion_is_a_near_spelling_or_a_shared_stem(string key, string? expected) =>
        Assert.Equal(expected, UnknownKeys.Nearest(key, ["LeaseTime", "StandbyPollInterval", "StreamMaxLength", "ReadCount"]));

    private static IConfiguration Shipped(Dictionary<string, string?> settings) => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
        .AddInMemoryCollection(settings)
        .Build();

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ReadHistory.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ReadHistory.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("ReadHistory__[A-Za-z0-9_]*[A-Za-z0-9]")]
    private static partial Regex EnvironmentKey();
}
