using System.Buffers.Binary;
using System.Collections.Immutable;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// The validators that seal blocks at some height: distinct addresses held in ascending byte order, so the set
/// and its hash do not depend on the order anyone listed them in. For n validators the protocol tolerates
/// f = ⌊(n−1)/3⌋ faulty ones and needs a quorum of ⌈2n/3⌉ seals (DESIGN.md §6).
/// </summary>
public sealed class ValidatorSet
{
    private readonly ImmutableArray<Address> _members;

    public ValidatorSet(IEnumerable<Address> validators)
        : this(validators, CryptoSuite.Eth)
    {
    }

    /// <summary>The set of a chain in <paramref name="suite"/>: its <see cref="Hash"/> is that suite's hash.</summary>
    public ValidatorSet(IEnumerable<Address> validators, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var sorted = validators.ToImmutableSortedSet();
        if (sorted.Count == 0)
        {
            throw new ArgumentException("a validator set needs at least one validator", nameof(validators));
        }

        _members = [.. sorted];
        Hash = ComputeHash(_members, suite);
    }

    public ImmutableArray<Address> Members => _members;

    public int Count => _members.Length;

    /// <summary>f = ⌊(n−1)/3⌋: how many validators may be faulty.</summary>
    public int MaxFaulty => (Count - 1) / 3;

    /// <summary>⌈2n/3⌉ seals commit a block.</summary>
    public int Quorum => ((2 * Count) + 2) / 3;

    /// <summary>H(count as 4 bytes big-endian ‖ the sorted 20-byte addresses), H the chain suite's hash (Keccak-256 or SM3).</summary>
    public Hash256 Hash { get; }

    public bool Contains(Address validator) => _members.BinarySearch(validator) >= 0;

    /// <summary>Position of a validator in the sorted set, or −1: the bit of a seal bitmap, the proposer order.</summary>
    public int IndexOf(Address validator) => Math.Max(-1, _members.BinarySearch(validator));

    /// <summary>The proposer of (height, round): rotates through the sorted set by height, and again by round.</summary>
    public Address ProposerFor(long height, int round) => _members[(int)((height + round) % Count)];

    private static Hash256 ComputeHash(ImmutableArray<Address> members, CryptoSuite suite)
    {
        var bytes = new byte[4 + (members.Length * Address.Size)];
        BinaryPrimitives.WriteInt32BigEndian(bytes, members.Length);
        for (var i = 0; i < members.Length; i++)
        {
            members[i].Bytes.CopyTo(bytes.AsSpan(4 + (i * Address.Size)));
        }

        return suite.Hash(bytes);
    }
}
