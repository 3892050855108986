namespace SmartCity.Testing.TestKit;

/// <summary>A clock that moves only when told (<see cref="Advance"/>): intervals and timeouts tested without waiting.</summary>
public sealed class ManualTime : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
