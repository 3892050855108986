using System.Collections.Immutable;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Receipts;

/// <summary>
/// Evidence a party can check offline with nothing but the consortium's validator set (see <see cref="TrustAnchor"/>):
/// a certified header plus a proof against one of the roots it commits to. Format: docs/receipts.md.
/// </summary>
public abstract record Receipt(ulong ChainId, BlockHeader Header, CommitCertificate Certificate)
{
    public const string Format = "smartcity.receipt";

    /// <summary>Version 2 carries <c>"crypto"</c>; version 1 (no such field) is read as an eth receipt.</summary>
    public const int Version = 2;

    /// <summary>Version 3 is version 2 plus <c>"handOvers"</c> (at least one): written only for a receipt that carries hand-overs, so every other receipt reads as before.</summary>
    public const int HandOverVersion = 3;

    /// <summary>The receipt's crypto suite: the header's (its first byte), written as <c>"crypto"</c>. Verified only under an anchor of the same suite.</summary>
    public CryptoSuiteId Crypto => Header.Crypto;

    /// <summary>
    /// Every validator-set hand-over below the receipt's (highest) header, in height order: the chain of evidence from the
    /// genesis set to the set that certified the receipt (empty while the genesis set is in force). Written as
    /// <c>"handOvers"</c>, in receipt format version 3 (docs/receipts.md, "Validator-set hand-overs").
    /// </summary>
    public ImmutableArray<ValidatorSetHandOver> HandOvers { get; init; } = [];
}

/// <summary>
/// One validator-set hand-over: block <see cref="Header"/> certified by the outgoing set (the one in force at its height),
/// and a state proof under its state root that the state's <c>validator-set</c> holds exactly <see cref="Validators"/> —
/// by the chain's rule the set that seals every block after it until the next hand-over. The same evidence the anchoring
/// contract's <c>handOver</c> takes (docs/anchoring.md).
/// </summary>
public sealed record ValidatorSetHandOver(BlockHeader Header, CommitCertificate Certificate, ValidatorSet Validators, StateProof Proof)
{
    /// <summary>The height of the first block the incoming set seals.</summary>
    public long Since => Header.Height + 1;

    /// <summary>
    /// The hand-over's state check, shared by the receipt verifier and every tool that re-checks a stored chain
    /// (<c>ValidatorSetWalk</c>): <paramref name="proof"/> shows that the state under
    /// <paramref name="header"/>'s state root holds exactly <paramref name="incoming"/> as its <c>validator-set</c>.
    /// </summary>
    public static bool ProvesIncoming(BlockHeader header, ValidatorSet incoming, StateProof proof, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(incoming);
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(suite);
        return proof.Verify(header.StateRoot, StateKeys.ValidatorSet.HashIn(suite), ValidatorSetInState.Encode(incoming), suite);
    }
}

/// <summary>A transaction is in the history tree the header commits to (RFC 9162 inclusion proof).</summary>
public sealed record InclusionReceipt(ulong ChainId, BlockHeader Header, CommitCertificate Certificate, byte[] Transaction, InclusionProof Proof)
    : Receipt(ChainId, Header, Certificate)
{
    public const string Type = "transaction-inclusion";
}

/// <summary>
/// A state key has a value (or none) in the state tree the header commits to — e.g. a licence's current status:
/// <c>licence/{identifier}</c>. <see cref="Value"/> null proves absence.
/// </summary>
public sealed record StateReceipt(ulong ChainId, BlockHeader Header, CommitCertificate Certificate, string StateKey, byte[]? Value, StateProof Proof)
    : Receipt(ChainId, Header, Certificate)
{
    public const string Type = "state-value";

    public StateKey Key => new(StateKey);
}

/// <summary>
/// A licence's verification in one document: the inclusion proof of the licence's latest transaction, the state proof
/// of its current value (<c>licence/{identifier}</c>) and the certified header both proofs lead to — so a bank checks
/// the licence's status and the act that set it with one certificate check.
/// </summary>
public sealed record LicenceReceipt(ulong ChainId, BlockHeader Header, CommitCertificate Certificate, byte[] Transaction, InclusionProof Inclusion, string StateKey, byte[] Value, StateProof StateProof)
    : Receipt(ChainId, Header, Certificate)
{
    public const string Type = "licence-verification";

    public const string KeyPrefix = "licence/";

    public StateKey Key => new(StateKey);

    public string Identifier => StateKey.StartsWith(KeyPrefix, StringComparison.Ordinal) ? StateKey[KeyPrefix.Length..] : StateKey;
}

/// <summary>
/// The history certified by an earlier header (<see cref="FromHeader"/>) is a prefix of the history certified by a
/// later one (<see cref="Receipt.Header"/>): an RFC 9162 consistency proof between their history roots, with both
/// headers' commit certificates.
/// </summary>
public sealed record ConsistencyReceipt(ulong ChainId, BlockHeader FromHeader, CommitCertificate FromCertificate, BlockHeader Header, CommitCertificate Certificate, ConsistencyProof Proof)
    : Receipt(ChainId, Header, Certificate)
{
    public const string Type = "history-consistency";
}
