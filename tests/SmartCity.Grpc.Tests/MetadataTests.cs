namespace SmartCity.Grpc.Tests;

public sealed class MetadataTests
{
    [Fact]
    public void Keys_are_lower_cased_and_the_last_value_wins()
    {
        var metadata = new Metadata().Add("X-Request-Id", "a").Add("x-request-id", "b");

        Assert.Equal("b", metadata.GetValue("X-REQUEST-ID"));
        Assert.All(metadata, entry => Assert.Equal("x-request-id", entry.Key));
    }

    [Fact]
    public void Binary_keys_need_bytes_and_text_keys_need_text()
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x-trace-bin", "text"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x-trace", [1, 2]));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("colon:")]
    [InlineData("")]
    public void Rejects_keys_outside_the_allowed_characters(string key)
    {
        Assert.ThrowsAny<ArgumentException>(() => new Metadata().Add(key, "v"));
    }

    [Fact]
    public void Rejects_text_values_that_are_not_printable_ascii()
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x-region", "北京"));
    }
}
