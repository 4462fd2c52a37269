using Prometheus;
using ReadHistory.Server.Cdc;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Cdc;

public sealed class CdcMetricsTests
{
    [Fact]
    public async Task The_series_carry_the_documented_names_and_values()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new CdcMetrics(registry);

        metrics.SetLeader(true);
        metrics.Published(rows: 120, batches: 7);
        metrics.SetLag(1.5);
        var lines = await Exposition.ScrapeLinesAsync(registry);

        Assert.Contains("readhistory_cdc_leader 1", lines);
        Assert.Contains("readhistory_cdc_rows_published_total 120", lines);
        Assert.Contains("readhistory_cdc_batches_published_total 7", lines);
        Assert.Contains("readhistory_cdc_lag_seconds 1.5", lines);
        Assert.Equal(120, metrics.RowsPublished);
    }
}
