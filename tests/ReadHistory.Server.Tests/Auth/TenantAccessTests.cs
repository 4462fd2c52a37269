using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Auth;
using ReadHistory.Server.Proxy;
using Xunit;

namespace ReadHistory.Server.Tests.Auth;

public sealed class TenantAccessTests
{
    private static readonly CallerIdentity Key = new("feed-ranker", new ApiKeyOptions { Sha256 = new string('a', 64), Tenants = ["feed", "feed-eu"], Scopes = ["read"] });

    [Fact]
    public void An_empty_tenant_becomes_the_keys_default_tenant()
    {
        var check = new CheckRequest { UserId = 1, ContentIds = { 1 } };
        var forget = new ForgetUserRequest { UserId = 1 };

        TenantAccessInterceptor.Admit(check, Key);
        TenantAccessInterceptor.Admit(forget, Key);

        Assert.Equal("feed", check.Tenant);
        Assert.Equal("feed", forget.Tenant);
    }

    [Fact]
    public void A_forwarded_request_without_a_tenant_is_routed_as_the_keys_default_tenant()
    {
        var forwarded = ForwardedRequestReader.ReadCheck(new ReadOnlySequence<byte>(new CheckRequest { UserId = 1, ContentIds = { 1 } }.ToByteArray()));

        TenantAccessInterceptor.Admit(forwarded, Key);

        Assert.Equal("feed", forwarded.Tenant);
    }

    [Fact]
    public void A_named_tenant_the_key_holds_is_kept()
    {
        var mark = new MarkReadRequest { UserId = 1, Tenant = "feed-eu" };

        TenantAccessInterceptor.Admit(mark, Key);

        Assert.Equal("feed-eu", mark.Tenant);
    }

    [Fact]
    public void A_batch_entry_of_another_tenant_is_denied_though_the_batch_tenant_is_held()
    {
        var batch = new BatchCheckRequest { Tenant = "feed", Requests = { new CheckRequest { UserId = 1 }, new CheckRequest { UserId = 2, Tenant = "push" } } };

        var error = Assert.Throws<RpcException>(() => TenantAccessInterceptor.Admit(batch, Key));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.DoesNotContain("feed", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_forwarded_batch_entry_of_another_tenant_is_denied()
    {
        var bytes = new BatchCheckRequest { Requests = { new CheckRequest { UserId = 1, ContentIds = { 1 } }, new CheckRequest { UserId = 2, ContentIds = { 1 }, Tenant = "push" } } }.ToByteArray();
        var batch = ForwardedRequestReader.ReadBatch(new ReadOnlySequence<byte>(bytes));

        var error = Assert.Throws<RpcException>(() => TenantAccessInterceptor.Admit(batch, Key));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("feed", batch.Tenant);
    }
}
