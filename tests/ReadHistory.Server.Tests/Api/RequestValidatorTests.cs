using ReadHistory.TestSupport;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Api;

public sealed class RequestValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly RequestValidator _validator = new(ShippedDefaults.Limits(), new ManualTimeProvider(Now));

    [Fact]
    public void A_valid_check_passes()
    {
        Assert.Null(_validator.Validate(Check(42, 1, 2, 3)));
    }

    [Fact]
    public void User_zero_is_refused_naming_the_field()
    {
        Assert.Equal("user_id: 0 is not a valid user id (1 .. 2^64-1)", _validator.Validate(Check(0, 1)));
    }

    [Fact]
    public void Content_id_zero_is_refused_with_its_index()
    {
        Assert.StartsWith("content_ids[1]: 0", _validator.Validate(Check(42, 5, 0)));
    }

    [Fact]
    public void Too_many_ids_names_the_limit()
    {
        var ids = Enumerable.Range(1, 10_001).Select(i => (ulong)i).ToArray();
        Assert.Equal("content_ids: 10001 ids exceed the limit of 10000", _validator.Validate(Check(42, ids)));
    }

    [Fact]
    public void Content_type_above_16_bits_is_refused()
    {
        var request = Check(42, 1);
        request.ContentType = 65536;
        Assert.StartsWith("content_type: 65536 exceeds", _validator.Validate(request));
    }

    [Theory]
    [InlineData("Feed")]
    [InlineData("feed pool")]
    [InlineData("ünï")]
    public void Tenant_with_other_characters_is_refused(string tenant)
    {
        var request = Check(42, 1);
        request.Tenant = tenant;
        Assert.StartsWith("tenant: ", _validator.Validate(request));
    }

    [Fact]
    public void Long_session_is_refused()
    {
        var request = Check(42, 1);
        request.SessionId = new string('s', 129);
        Assert.Equal("session_id: 129 bytes exceed the limit of 128", _validator.Validate(request));
    }

    [Fact]
    public void Read_at_more_than_a_day_ahead_is_refused()
    {
        var request = new MarkReadRequest { UserId = 42 };
        request.Items.Add(new ReadItem { ContentId = 1, ReadAtMs = Now.AddHours(1).ToUnixTimeMilliseconds() });
        request.Items.Add(new ReadItem { ContentId = 2, ReadAtMs = Now.AddDays(2).ToUnixTimeMilliseconds() });
        Assert.StartsWith("items[1].read_at_ms: ", _validator.Validate(request));
    }

    [Fact]
    public void Empty_mark_read_is_refused()
    {
        Assert.Equal("items: at least one item is required", _validator.Validate(new MarkReadRequest { UserId = 42 }));
    }

    [Fact]
    public void Batch_over_the_id_budget_is_refused_whole()
    {
        var limits = ShippedDefaults.Limits(static o => o.MaxBatchIds = 5);
        var validator = new RequestValidator(limits, new ManualTimeProvider(Now));
        var batch = new BatchCheckRequest();
        batch.Requests.Add(Check(1, 1, 2, 3));
        batch.Requests.Add(Check(2, 1, 2, 3));
        Assert.Equal("requests: 6 content ids in all exceed the limit of 5", validator.Validate(batch));
    }

    [Fact]
    public void A_bad_batch_entry_names_its_index()
    {
        Assert.StartsWith("requests[3].user_id: ", _validator.ValidateEntry(Check(0, 1), 3));
    }

    private static CheckRequest Check(ulong user, params ulong[] ids)
    {
        var request = new CheckRequest { UserId = user };
        request.ContentIds.AddRange(ids);
        return request;
    }
}
