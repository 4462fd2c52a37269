using Microsoft.AspNetCore.Http;
using ReadHistory.Rpc.Internal;
using Xunit;

namespace ReadHistory.Rpc.Tests.Unit;

public class MetadataTests
{
    [Fact]
    public void Keys_are_lower_cased()
    {
        var metadata = new Metadata { { "X-Trace-ID", "abc" } };

        Assert.Equal("x-trace-id", metadata[0].Key);
        Assert.Equal("abc", metadata.GetValue("x-trace-id"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("colon:")]
    [InlineData("ümlaut")]
    public void Invalid_keys_are_refused(string key)
    {
        Assert.ThrowsAny<ArgumentException>(() => new Metadata.Entry(key, "v"));
    }

    [Fact]
    public void A_binary_key_needs_bytes_and_bytes_need_a_binary_key()
    {
        Assert.Throws<ArgumentException>(() => new Metadata.Entry("x-data-bin", "text"));
        Assert.Throws<ArgumentException>(() => new Metadata.Entry("x-data", new byte[] { 1 }));
        Assert.True(new Metadata.Entry("x-data-bin", new byte[] { 1 }).IsBinary);
    }

    [Theory]
    [InlineData("tab\there")]
    [InlineData("newline\n")]
    [InlineData("é")]
    public void Ascii_values_must_be_printable(string value)
    {
        Assert.Throws<ArgumentException>(() => new Metadata.Entry("x-key", value));
    }

    [Fact]
    public void Get_returns_the_last_entry_of_a_key()
    {
        var metadata = new Metadata { { "k", "1" }, { "k", "2" } };

        Assert.Equal("2", metadata.GetValue("k"));
        Assert.Equal(2, metadata.GetAll("k").Count());
        Assert.Null(metadata.Get("missing"));
    }

    [Fact]
    public void The_empty_instance_is_read_only()
    {
        Assert.Throws<InvalidOperationException>(() => Metadata.Empty.Add("k", "v"));
    }

    [Fact]
    public void Binary_values_are_sent_as_unpadded_base64()
    {
        var metadata = new Metadata { { "x-bin", new byte[] { 1, 2, 3, 4 } }, { "x-text", "hello" } };
        var headers = new HeaderDictionary();

        MetadataHeaders.WriteTo(metadata, headers);

        Assert.Equal("AQIDBA", headers["x-bin"].ToString());
        Assert.Equal("hello", headers["x-text"].ToString());
    }

    [Theory]
    [InlineData("AQIDBA")]
    [InlineData("AQIDBA==")]
    public void Binary_values_are_read_padded_or_not(string wire)
    {
        var headers = new HeaderDictionary { ["x-bin"] = wire };

        var metadata = MetadataHeaders.FromHeaders(headers);

        Assert.Equal(new byte[] { 1, 2, 3, 4 }, metadata.GetValueBytes("x-bin"));
    }

    [Fact]
    public void Comma_joined_binary_values_are_split()
    {
        var headers = new HeaderDictionary { ["x-bin"] = "AQ,Ag==" };

        var values = MetadataHeaders.FromHeaders(headers).GetAll("x-bin").Select(e => e.ValueBytes).ToList();

        Assert.Equal([new byte[] { 1 }, new byte[] { 2 }], values);
    }

    [Fact]
    public void Reserved_headers_never_become_metadata()
    {
        var headers = new HeaderDictionary
        {
            [":path"] = "/x/y",
            ["content-type"] = "application/grpc",
            ["te"] = "trailers",
            ["grpc-timeout"] = "1S",
            ["grpc-encoding"] = "gzip",
            ["x-custom"] = "kept",
        };

        var metadata = MetadataHeaders.FromHeaders(headers);

        Assert.Equal("x-custom", Assert.Single(metadata).Key);
    }

    [Fact]
    public void Reserved_keys_are_not_written()
    {
        var metadata = new Metadata { { "grpc-status", "0" }, { "x-ok", "1" } };
        var headers = new HeaderDictionary();

        MetadataHeaders.WriteTo(metadata, headers);

        Assert.False(headers.ContainsKey("grpc-status"));
        Assert.True(headers.ContainsKey("x-ok"));
    }

    [Fact]
    public void Undecodable_binary_values_are_dropped_not_thrown()
    {
        var headers = new HeaderDictionary { ["x-bin"] = "!!!not base64" };

        Assert.Empty(MetadataHeaders.FromHeaders(headers));
    }
}
