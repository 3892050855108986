using SmartCity.Ledger.Blocks;
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
    public const int Version = 1;
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
