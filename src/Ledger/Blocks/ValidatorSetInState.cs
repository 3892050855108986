using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// The chain's rule for the validator set in force (docs/consensus.md, "Validator-set changes"): the set that seals
/// block h+1 is the <c>validator-set</c> value of the state after block h. So a governance vote that reaches its
/// threshold in block h names its activation height implicitly — h+1 — and every node derives it from its own
/// re-executed state. Decoding is cached by value: the set changes rarely, and reading it costs one state lookup.
/// </summary>
public sealed class ValidatorSetInState
{
    private Cached? _last;

    /// <summary>The set that seals the block after the one whose post-state is <paramref name="state"/>.</summary>
    /// <exception cref="InvalidOperationException">The state has no (or an undecodable) <c>validator-set</c>: a chain always has one from genesis.</exception>
    public ValidatorSet After(IStateReader state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var bytes = state.Get(StateKeys.ValidatorSet)
            ?? throw new InvalidOperationException("the state holds no validator-set: every chain writes it at genesis");
        var last = Volatile.Read(ref _last);
        if (last is not null && last.Suite == state.Suite.Id && bytes.AsSpan().SequenceEqual(last.Bytes))
        {
            return last.Set;
        }

        var set = Decode(bytes, CryptoSuite.For(state.Suite.Id))
            ?? throw new InvalidOperationException("the state's validator-set value does not decode to a non-empty set of addresses");
        Volatile.Write(ref _last, new Cached(bytes, state.Suite.Id, set));
        return set;
    }

    /// <summary>The set a <c>validator-set</c> state value holds, or null when the bytes are not such a value.</summary>
    public static ValidatorSet? Decode(ReadOnlySpan<byte> value, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (!StateValue.TryDecode(value.ToArray(), ValidatorSetState.Read, out var decoded, out _) || decoded.Addresses.Count == 0)
        {
            return null;
        }

        var addresses = new List<Address>(decoded.Addresses.Count);
        foreach (var text in decoded.Addresses)
        {
            if (!Address.TryParse(text, out var address, out _))
            {
                return null;
            }

            addresses.Add(address);
        }

        return new ValidatorSet(addresses, suite);
    }

    /// <summary>The <c>validator-set</c> state value that holds exactly <paramref name="validators"/> (what a state proof of a set proves).</summary>
    public static byte[] Encode(ValidatorSet validators)
    {
        ArgumentNullException.ThrowIfNull(validators);
        return StateValue.Encode(new ValidatorSetState([.. validators.Members.Select(a => a.ToString().ToLowerInvariant())]));
    }

    private sealed record Cached(byte[] Bytes, CryptoSuiteId Suite, ValidatorSet Set);
}
