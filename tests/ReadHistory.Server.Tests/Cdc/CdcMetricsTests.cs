using System.Diagnostics.Metrics;
using ReadHistory.Server.Cdc;
using Xunit;

namespace ReadHistory.Server.Tests.Cdc;

public sealed class CdcMetricsTests
{
    [Fact]
    public void The_instruments_carry_the_documented_names_and_values()
    {
        using var metrics = new CdcMetrics();
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => seen[i.Name] = seen.GetValueOrDefault(i.Name) + v);
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => seen[i.Name] = v);
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => seen[i.Name] = v);
        listener.Start();

        metrics.SetLeader(true);
        metrics.Published(rows: 120, batches: 7);
        metrics.SetLag(1.5);
        listener.RecordObservableInstruments();

        Assert.Equal(1, seen["readhistory_cdc_leader"]);
        Assert.Equal(120, seen["readhistory_cdc_rows_published_total"]);
        Assert.Equal(7, seen["readhistory_cdc_batches_published_total"]);
        Assert.Equal(1.5, seen["readhistory_cdc_lag_seconds"]);
        Assert.Equal(120, metrics.RowsPublished);
    }
}
