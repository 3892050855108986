using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Tests;

public sealed class GrpcTimeoutTests
{
    [Theory]
    [InlineData("2H", 2 * TimeSpan.TicksPerHour)]
    [InlineData("3M", 3 * TimeSpan.TicksPerMinute)]
    [InlineData("5S", 5 * TimeSpan.TicksPerSecond)]
    [InlineData("250m", 250 * TimeSpan.TicksPerMillisecond)]
    [InlineData("1500u", 1500 * TimeSpan.TicksPerMicrosecond)]
    [InlineData("1000n", 10)]
    [InlineData("1n", 1)]
    [InlineData("0m", 0)]
    [InlineData("99999999H", 99_999_999 * TimeSpan.TicksPerHour)]
    public void Parses_every_unit(string header, long expectedTicks)
    {
        Assert.True(GrpcTimeout.TryParse(header, out var timeout));
        Assert.Equal(TimeSpan.FromTicks(expectedTicks), timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("10h")]
    [InlineData("-1S")]
    [InlineData("+1S")]
    [InlineData(" 1S")]
    [InlineData("1.5S")]
    [InlineData("123456789S")]
    [InlineData("1SS")]
    public void Rejects_anything_but_up_to_eight_digits_and_one_unit(string header)
    {
        Assert.False(GrpcTimeout.TryParse(header, out _));
    }

    [Theory]
    [InlineData(0, "1n")]
    [InlineData(1, "100n")]
    [InlineData(TimeSpan.TicksPerMillisecond * 300, "300000u")]
    [InlineData(TimeSpan.TicksPerSecond * 30, "30000000u")]
    [InlineData(TimeSpan.TicksPerHour * 2, "7200000m")]
    [InlineData(TimeSpan.TicksPerDay * 400, "34560000S")]
    [InlineData(TimeSpan.TicksPerDay * 5000, "7200000M")]
    public void Formats_in_the_finest_unit_that_fits_in_eight_digits(long ticks, string expected)
    {
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));
    }

    [Fact]
    public void Formatting_rounds_up_so_the_peer_never_sees_a_shorter_deadline()
    {
        var timeout = TimeSpan.FromTicks(TimeSpan.TicksPerSecond * 1000 + 1);

        Assert.True(GrpcTimeout.TryParse(GrpcTimeout.Format(timeout), out var parsed));
        Assert.True(parsed >= timeout);
    }
}
