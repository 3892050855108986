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

    /// <summary>The receipt's crypto suite: the header's (its first byte), written as <c>"crypto"</c>. Verified only under an anchor of the same suite.</summary>
    public CryptoSuiteId Crypto => Header.Crypto;
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
