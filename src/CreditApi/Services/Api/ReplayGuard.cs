using System.Collections.Concurrent;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// Remembers each (member, nonce) of an authenticated request for the replay window, so the same signed request is
/// accepted once. Entries older than the window are dropped (their timestamps are refused as stale anyway).
/// </summary>
public sealed class ReplayGuard(ApiOptions options)
{
    private readonly ConcurrentDictionary<(Address, UInt128), long> _seen = new();
    private long _nextSweepMs;

    public enum Outcome
    {
        Fresh,
        Replayed,
        Full,
    }

    public Outcome Remember(Address member, ReadOnlySpan<byte> nonce, long nowMs)
    {
        var key = (member, System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(nonce));
        var window = (long)options.ReplayWindow.TotalMilliseconds;
        if (nowMs >= Interlocked.Read(ref _nextSweepMs) || _seen.Count >= options.MaxRememberedNonces)
        {
            Interlocked.Exchange(ref _nextSweepMs, nowMs + (window / 4));
            foreach (var (seen, at) in _seen)
            {
                if (at < nowMs - (2 * window))
                {
                    _seen.TryRemove(seen, out _);
                }
            }
        }

        if (_seen.Count >= options.MaxRememberedNonces)
        {
            return Outcome.Full;
        }

        return _seen.TryAdd(key, nowMs) ? Outcome.Fresh : Outcome.Replayed;
    }
}
