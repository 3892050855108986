using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;

namespace SmartCity.Ledger.Receipts;

/// <summary>
/// Checks a receipt offline: the certificate proves the header final under the anchor's validators, and the proof
/// ties the transaction or state value to a root in that header. Every failure is a typed verdict with a reason.
/// </summary>
public static class ReceiptVerifier
{
    public static ReceiptVerdict Verify(Receipt receipt, TrustAnchor anchor, ISecp256k1 curve)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(anchor);
        if (receipt.ChainId != anchor.ChainId || receipt.Header.ChainId != anchor.ChainId)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.WrongChain, $"receipt is for chain {receipt.ChainId} (header {receipt.Header.ChainId}), the anchor is chain {anchor.ChainId}");
        }

        var certificate = receipt.Certificate.Verify(receipt.Header, anchor.Validators, anchor.DomainSeparator, curve);
        if (!certificate.IsValid)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.CertificateInvalid, $"certificate: {certificate.Check}: {certificate.Reason}");
        }

        return receipt switch
        {
            InclusionReceipt inclusion => VerifyInclusion(inclusion),
            StateReceipt state => VerifyState(state),
            _ => ReceiptVerdict.Fail(ReceiptCheck.UnknownType, $"unknown receipt type {receipt.GetType().Name}"),
        };
    }

    private static ReceiptVerdict VerifyInclusion(InclusionReceipt receipt)
    {
        var header = receipt.Header;
        if (receipt.Proof.TreeSize != header.HistorySize)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"proof is for a history of {receipt.Proof.TreeSize} transactions, the header commits to {header.HistorySize}");
        }

        return receipt.Proof.Verify(Rfc6962.LeafHash(receipt.Transaction), header.HistoryRoot)
            ? ReceiptVerdict.Valid
            : ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"inclusion proof of leaf {receipt.Proof.LeafIndex} does not lead to the header's history root {header.HistoryRoot}");
    }

    private static ReceiptVerdict VerifyState(StateReceipt receipt)
    {
        var what = receipt.Value is null ? "absence" : "value";
        return receipt.Proof.Verify(receipt.Header.StateRoot, receipt.Key.Hash, receipt.Value)
            ? ReceiptVerdict.Valid
            : ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"state proof of the {what} of '{receipt.StateKey}' does not lead to the header's state root {receipt.Header.StateRoot}");
    }
}

public enum ReceiptCheck
{
    Valid = 0,
    WrongChain,
    CertificateInvalid,
    ProofInvalid,
    UnknownType,
}

public readonly record struct ReceiptVerdict(ReceiptCheck Check, string Reason)
{
    public static ReceiptVerdict Valid { get; } = new(ReceiptCheck.Valid, "valid");

    public bool IsValid => Check == ReceiptCheck.Valid;

    public static ReceiptVerdict Fail(ReceiptCheck check, string reason) => new(check, reason);
}
