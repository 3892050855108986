namespace SmartCity.Testing.TestKit;

/// <summary>Waits for something another thread or process does, up to a bound (a bound on the wait, not a timing assertion).</summary>
public static class Eventually
{
    /// <summary>Whether <paramref name="condition"/> held within <paramref name="limit"/> (30 s unless told), polled every <paramref name="every"/> (10 ms unless told).</summary>
    public static async Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? limit = null, TimeSpan? every = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(10));
        }

        return true;
    }
}
