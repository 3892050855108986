using System.Collections.Concurrent;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// Members and their roles as the ledger state at the head says (<c>member/{address}</c>), cached until the next
/// block: a member removed or re-roled by governance is treated accordingly from the block that did it.
/// </summary>
public sealed class MemberDirectory(LedgerRuntime ledger)
{
    private ConcurrentDictionary<Address, MemberState?> _cache = new();
    private long _cachedHeight = -1;

    public async ValueTask<MemberState?> FindAsync(Address address, CancellationToken cancellationToken)
    {
        var node = ledger.Node;
        var height = node.Head.Height;
        if (Volatile.Read(ref _cachedHeight) != height)
        {
            _cache = new ConcurrentDictionary<Address, MemberState?>();
            Volatile.Write(ref _cachedHeight, height);
        }

        var cache = _cache;
        if (cache.TryGetValue(address, out var known))
        {
            return known;
        }

        var bytes = await node.ReadChainAsync(chain => chain.State.Get(StateKeys.Member(address)), cancellationToken).ConfigureAwait(false);
        var member = bytes is not null && StateValue.TryDecode(bytes, MemberState.Read, out var state, out _) ? state : null;
        cache[address] = member;
        return member;
    }
}
