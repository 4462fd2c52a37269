using ReadHistory.Rpc.Testing;
using Xunit;

namespace ReadHistory.Rpc.Tests.Unit;

public class TestServerCallContextTests
{
    [Fact]
    public async Task A_handler_can_be_called_directly_with_a_test_context()
    {
        var deadline = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var context = TestServerCallContext.Create(deadline: deadline, requestHeaders: new Metadata { { "x-user", "7" } });

        await context.WriteResponseHeadersAsync(new Metadata { { "x-h", "1" } });
        context.ResponseTrailers.Add("x-t", "2");
        context.Status = new Status(StatusCode.NotFound, "no");

        Assert.Equal(deadline, context.Deadline);
        Assert.Equal("7", context.RequestHeaders.GetValue("x-user"));
        Assert.Equal("1", context.ResponseHeaders!.GetValue("x-h"));
        Assert.Equal("2", context.ResponseTrailers.GetValue("x-t"));
        Assert.Equal(StatusCode.NotFound, context.Status.StatusCode);
        await Assert.ThrowsAsync<InvalidOperationException>(() => context.WriteResponseHeadersAsync([]));
    }
}
