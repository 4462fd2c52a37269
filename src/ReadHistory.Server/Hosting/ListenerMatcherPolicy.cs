using Microsoft.AspNetCore.Routing.Matching;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Routing policy: an endpoint carrying <see cref="ServedOnAttribute"/> is a candidate only on connections of the
/// listeners it names (<see cref="ListenerFeature"/>). What remains is matched as usual: a method of the internal
/// service called on the public port reaches Grpc.AspNetCore's unimplemented-service endpoint (UNIMPLEMENTED).
/// </summary>
internal sealed class ListenerMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    /// <inheritdoc />
    // Before the HTTP method policy (order -1000 .. 0 are the framework's), so a dropped endpoint never makes a 405.
    public override int Order => -2000;

    /// <inheritdoc />
    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        for (var i = 0; i < endpoints.Count; i++)
        {
            if (endpoints[i].Metadata.GetMetadata<ServedOnAttribute>() is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(candidates);
        var listener = httpContext.Features.Get<ListenerFeature>()?.Listener;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i)
                && candidates[i].Endpoint.Metadata.GetMetadata<ServedOnAttribute>() is { } servedOn
                && !servedOn.Allows(listener))
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}
