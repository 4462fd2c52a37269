using ReadHistory.Rpc.Internal;
using Xunit;

namespace ReadHistory.Rpc.Tests.Unit;

public class PercentEncodingTests
{
    [Fact]
    public void Plain_ascii_is_returned_as_the_same_string()
    {
        const string value = "no escapes here: a-z 0-9 ~!";

        Assert.Same(value, PercentEncoding.Encode(value));
    }

    [Theory]
    [InlineData("100%", "100%25")]
    [InlineData("é", "%C3%A9")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("tab\t", "tab%09")]
    [InlineData("\u007F", "%7F")]
    [InlineData("✓ 中", "%E2%9C%93 %E4%B8%AD")]
    [InlineData("😀", "%F0%9F%98%80")]
    public void Bytes_outside_printable_ascii_and_percent_are_escaped(string value, string expected)
    {
        Assert.Equal(expected, PercentEncoding.Encode(value));
    }

    [Theory]
    [InlineData("résumé ✓ 中文 100% done")]
    [InlineData("%")]
    [InlineData("%%25")]
    [InlineData("")]
    [InlineData("emoji 😀 and \r\n")]
    public void Encoding_round_trips(string value)
    {
        Assert.Equal(value, PercentEncoding.Decode(PercentEncoding.Encode(value)));
    }

    [Theory]
    [InlineData("%", "%")]
    [InlineData("%4", "%4")]
    [InlineData("%G1", "%G1")]
    [InlineData("abc%", "abc%")]
    [InlineData("%41%42", "AB")]
    [InlineData("%c3%a9", "é")]
    [InlineData("%C3", "\uFFFD")]
    [InlineData("%FF%FE", "\uFFFD\uFFFD")]
    public void Decoding_never_fails_on_malformed_input(string value, string expected)
    {
        Assert.Equal(expected, PercentEncoding.Decode(value));
    }
}
