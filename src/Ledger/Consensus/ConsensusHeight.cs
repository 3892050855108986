using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// What the chain fixes for one height before consensus on it starts: the height, the validator set V_h (fixed by the
/// chain up to h−1), the parent's hash and time, and the parent's proposer (where proposer rotation continues).
/// </summary>
public sealed record ConsensusHeight
{
    /// <summary>QBFT needs n ≥ 4 to tolerate one faulty validator (CONSENSUS-NOTES §3).</summary>
    public const int MinValidators = 4;

    public ConsensusHeight(long height, ValidatorSet validators, Hash256 parentHash, long parentTimestampMs, Address previousProposer)
    {
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (validators.Count < MinValidators)
        {
            throw new ArgumentException($"QBFT needs at least {MinValidators} validators, the set of height {height} has {validators.Count}", nameof(validators));
        }

        Height = height;
        Validators = validators;
        ParentHash = parentHash;
        ParentTimestampMs = parentTimestampMs;
        PreviousProposer = previousProposer;
        FirstProposerIndex = FirstIndexAbove(validators, previousProposer);
    }

    public long Height { get; }

    public ValidatorSet Validators { get; }

    public Hash256 ParentHash { get; }

    public long ParentTimestampMs { get; }

    /// <summary>The proposer field of the parent header (zero for genesis).</summary>
    public Address PreviousProposer { get; }

    /// <summary>n.</summary>
    public int ValidatorCount => Validators.Count;

    /// <summary>f = ⌊(n−1)/3⌋.</summary>
    public int MaxFaulty => Validators.MaxFaulty;

    /// <summary>q = ⌈2n/3⌉, used for every quorum: PREPAREs, COMMITs, ROUND-CHANGEs and certificates.</summary>
    public int Quorum => Validators.Quorum;

    private int FirstProposerIndex { get; }

    /// <summary>
    /// The proposer of (h, r): with V_h sorted by address, V[(i + r) mod n] where i is the index of the parent's proposer
    /// plus one; if the parent's proposer has left the set, i is the index of the next higher address (wrapping)
    /// (CONSENSUS-NOTES §1, as Besu and the Dafny spec do).
    /// </summary>
    public Address ProposerFor(int round)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        return Validators.Members[(int)((FirstProposerIndex + (long)round) % Validators.Count)];
    }

    private static int FirstIndexAbove(ValidatorSet validators, Address previous)
    {
        var members = validators.Members;
        for (var i = 0; i < members.Length; i++)
        {
            if (members[i].CompareTo(previous) > 0)
            {
                return i;
            }
        }

        return 0;
    }
}
