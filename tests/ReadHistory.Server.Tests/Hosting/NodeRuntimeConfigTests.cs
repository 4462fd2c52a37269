using System.Text.Json;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

/// <summary>The runtime settings the readhistory executable ships with (its runtimeconfig.json, built next to the tests).</summary>
public sealed class NodeRuntimeConfigTests
{
    [Fact]
    public void The_node_runs_workstation_gc_and_turns_off_dynamic_http2_window_sizing()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "readhistory.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));

        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(properties.GetProperty("System.Net.SocketsHttpHandler.Http2FlowControl.DisableDynamicWindowSizing").GetBoolean());
        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.True(properties.GetProperty("System.GC.Concurrent").GetBoolean());
    }
}
