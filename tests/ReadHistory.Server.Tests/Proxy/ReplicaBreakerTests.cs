using Polly.CircuitBreaker;
using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Api;
using ReadHistory.Server.Proxy;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Proxy;

/// <summary>What opens a replica's passive breaker: a dead replica does; an overloaded one (calls out of time) or one whose database failed does not.</summary>
public sealed class ReplicaBreakerTests
{
    private const int Calls = 20;

    [Fact]
    public async Task Calls_that_run_out_of_time_fail_over_but_never_open_the_breaker()
    {
        using var endpoint = new ReplicaEndpoint($"http://127.0.0.1:{FreePort.Next()}", ShippedDefaults.Proxy(), TimeProvider.System);
        for (var i = 0; i < Calls; i++)
        {
            var failure = await Assert.ThrowsAsync<RpcException>(() => endpoint.CallAsync(static (c, r, o) => c.StatsAsync(r, o), new StatsRequest(), DateTime.UtcNow.AddSeconds(-1), CancellationToken.None));
            Assert.Equal(StatusCode.DeadlineExceeded, failure.StatusCode);
            Assert.True(ReplicaFailures.IsReplicaFailure(failure));
        }

        Assert.Equal(CircuitState.Closed, endpoint.BreakerState);
        Assert.True(endpoint.IsUsable);
    }

    [Fact]
    public async Task Calls_to_a_replica_that_is_gone_open_the_breaker()
    {
        using var endpoint = new ReplicaEndpoint($"http://127.0.0.1:{FreePort.Next()}", ShippedDefaults.Proxy(), TimeProvider.System);
        for (var i = 0; i < Calls && endpoint.BreakerState == CircuitState.Closed; i++)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => endpoint.CallAsync(static (c, r, o) => c.StatsAsync(r, o), new StatsRequest(), DateTime.UtcNow.AddSeconds(10), CancellationToken.None));
            Assert.True(ReplicaFailures.CountsAgainstReplica(failure), failure.ToString());
        }

        Assert.Equal(CircuitState.Open, endpoint.BreakerState);
        Assert.False(endpoint.IsUsable);
    }

    [Fact]
    public void A_refusal_for_load_is_the_node_s_answer_not_a_failure_of_the_replica()
    {
        var refusal = new RpcException(
            new Status(StatusCode.ResourceExhausted, "overloaded: checks in flight are at this node's limit of 64"),
            new Metadata { { "retry-after-ms", "20" } });

        Assert.False(ReplicaFailures.IsReplicaFailure(refusal));
        Assert.False(ReplicaFailures.CountsAgainstReplica(refusal));
    }

    [Fact]
    public void A_failed_database_write_is_the_node_s_answer_not_a_failure_of_the_replica()
    {
        var answer = StorageStatus.From(new StorageWriteException("storage write of 1 rows to shard 0 was not committed: connection refused"))!;
        var untagged = new RpcException(new Status(StatusCode.Unavailable, answer.Status.Detail));

        Assert.Equal(StatusCode.Unavailable, answer.StatusCode);
        Assert.True(ReplicaFailures.IsDatabaseFailure(answer));
        Assert.False(ReplicaFailures.IsReplicaFailure(answer));
        Assert.False(ReplicaFailures.CountsAgainstReplica(answer));
        Assert.True(ReplicaFailures.CountsAgainstReplica(untagged));
    }
}
