using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Tests;

public sealed class StatusMessageEncodingTests
{
    [Theory]
    [InlineData("plain text stays as it is", "plain text stays as it is")]
    [InlineData("100%", "100%25")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("北京", "%E5%8C%97%E4%BA%AC")]
    public void Encodes_non_printable_ascii_and_percent_as_utf8_escapes(string message, string expected)
    {
        Assert.Equal(expected, StatusMessageEncoding.Encode(message));
        Assert.Equal(message, StatusMessageEncoding.Decode(expected));
    }

    [Theory]
    [InlineData("50%", "50%")]
    [InlineData("%zz", "%zz")]
    [InlineData("%4", "%4")]
    public void Decoding_keeps_a_percent_that_starts_no_escape(string encoded, string expected)
    {
        Assert.Equal(expected, StatusMessageEncoding.Decode(encoded));
    }
}
