using Prometheus;

namespace ReadHistory.Server.Api.Admission;

/// <summary>
/// Admission control's series, read from the limiters at each scrape (nothing is counted on the call path):
/// readhistory_admission_in_flight{class}, readhistory_admission_limit{class} (0 = not bounded),
/// readhistory_admission_admitted_total{class} and readhistory_admission_refused_total{class} (pattern: docs/metrics.md, "Adding a metric").
/// </summary>
internal static class AdmissionMetrics
{
    private static readonly CallClass[] Classes = [CallClass.Checks, CallClass.Writes, CallClass.Batch];

    /// <summary>Creates the series in <paramref name="registry"/>, following <paramref name="admission"/>.</summary>
    public static void Publish(CollectorRegistry registry, AdmissionControl admission)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(admission);
        var factory = Metrics.WithCustomRegistry(registry);
        var inFlight = factory.CreateGauge("readhistory_admission_in_flight", "Calls admitted and not yet finished, by class (checks, writes, batch; an Ingest stream counts its message being handled).", "class");
        var limit = factory.CreateGauge("readhistory_admission_limit", "The bound of calls in flight of the class on this process (ReadHistory:Admission; 0 = not bounded).", "class");
        var admitted = factory.CreateCounter("readhistory_admission_admitted_total", "Calls (and Ingest messages) admitted, by class.", "class");
        var refused = factory.CreateCounter("readhistory_admission_refused_total", "Calls refused at once with RESOURCE_EXHAUSTED and retry-after-ms because their class was at its bound.", "class");
        foreach (var callClass in Classes)
        {
            limit.WithLabels(AdmissionControl.NameOf(callClass)).Set(admission.LimitOf(callClass));
            admitted.WithLabels(AdmissionControl.NameOf(callClass));
            refused.WithLabels(AdmissionControl.NameOf(callClass));
        }

        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var callClass in Classes)
            {
                var name = AdmissionControl.NameOf(callClass);
                inFlight.WithLabels(name).Set(admission.InFlight(callClass));
                admitted.WithLabels(name).IncTo(admission.Admitted(callClass));
                refused.WithLabels(name).IncTo(admission.Refused(callClass));
            }
        });
    }
}
