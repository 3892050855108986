using System.Collections.Concurrent;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// Remembers each (member, nonce) of an authenticated request for twice the replay window (a request signed up to one
/// window ahead of the clock stays acceptable for another window), so the same signed request is accepted once.
/// Forgetting is incremental: nonces are queued in the order they were remembered, and each call drops the few at the
/// front that are old enough. (It used to sweep the whole set every quarter window on a caller's thread and count it
/// with <see cref="ConcurrentDictionary{TKey, TValue}.Count"/>, which takes every lock of the set, on every call: at
/// 2,000 requests/s a sweep walked ~240,000 entries while that caller's answer waited.)
/// </summary>
public sealed class ReplayGuard(ApiOptions options)
{
    private readonly ConcurrentDictionary<(Address, UInt128), long> _seen = new();
    private readonly ConcurrentQueue<((Address, UInt128) Key, long AtMs)> _byAge = new();
    private readonly Lock _forgetting = new();
    private int _count;

    public enum Outcome
    {
        Fresh,
        Replayed,
        Full,
    }

    /// <summary>Nonces remembered now.</summary>
    public int Count => Volatile.Read(ref _count);

    public Outcome Remember(Address member, ReadOnlySpan<byte> nonce, long nowMs)
    {
        var key = (member, System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(nonce));
        Forget(nowMs - (2 * (long)options.ReplayWindow.TotalMilliseconds));
        if (Volatile.Read(ref _count) >= options.MaxRememberedNonces)
        {
            return Outcome.Full;
        }

        if (!_seen.TryAdd(key, nowMs))
        {
            return Outcome.Replayed;
        }

        Interlocked.Increment(ref _count);
        _byAge.Enqueue((key, nowMs));
        return Outcome.Fresh;
    }

    /// <summary>Drops the nonces remembered before <paramref name="beforeMs"/>; one caller at a time, the others go on.</summary>
    private void Forget(long beforeMs)
    {
        if (!_byAge.TryPeek(out var oldest) || oldest.AtMs >= beforeMs || !_forgetting.TryEnter())
        {
            return;
        }

        try
        {
            while (_byAge.TryPeek(out oldest) && oldest.AtMs < beforeMs && _byAge.TryDequeue(out oldest))
            {
                if (_seen.TryRemove(oldest.Key, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }
        }
        finally
        {
            _forgetting.Exit();
        }
    }
}
