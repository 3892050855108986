using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Receipts;

/// <summary>
/// Checks a receipt offline: the certificate proves the header final under the anchor's validators, and the proof
/// ties the transaction or state value to a root in that header. Every failure is a typed verdict with a reason.
/// </summary>
public static class ReceiptVerifier
{
    /// <summary>
    /// The whole offline check of a receipt document, as a bank's script sees it: <see cref="ReceiptOutcome.NotAReceipt"/>
    /// when the bytes are not a receipt at all (not UTF-8 JSON, wrong format or version, a field missing or of the
    /// wrong JSON type or syntax), <see cref="ReceiptOutcome.Invalid"/> for everything that reads as a receipt but
    /// does not prove what it claims, <see cref="ReceiptOutcome.Valid"/> otherwise. Never throws for any input.
    /// </summary>
    public static ReceiptReport VerifyDocument(ReadOnlySpan<byte> utf8Json, TrustAnchor anchor, ISecp256k1 curve)
    {
        var reading = ReceiptJson.Read(utf8Json);
        if (reading.NotAReceipt is { } notAReceipt)
        {
            return new ReceiptReport(ReceiptOutcome.NotAReceipt, ReceiptCheck.Malformed, notAReceipt, null, null);
        }

        if (reading.Unproven is { } unproven)
        {
            return new ReceiptReport(ReceiptOutcome.Invalid, unproven.Check, unproven.Reason, null, null);
        }

        var receipt = reading.Receipt!;
        var verdict = Verify(receipt, anchor, curve);
        if (!verdict.IsValid)
        {
            return new ReceiptReport(ReceiptOutcome.Invalid, verdict.Check, verdict.Reason, receipt, null);
        }

        if (receipt is StateReceipt { Value: { } value } state && state.StateKey.StartsWith(LicencePrefix, StringComparison.Ordinal))
        {
            if (!StateValue.TryDecode(value, LicenceState.Read, out var licence, out var error))
            {
                return new ReceiptReport(ReceiptOutcome.Invalid, ReceiptCheck.ValueNotDecodable, $"the proven value of '{state.StateKey}' is not a licence record: {error}", receipt, null);
            }

            var atBlockTime = licence.EffectiveStatusAt((ulong)receipt.Header.TimestampMs / 1000);
            return new ReceiptReport(ReceiptOutcome.Valid, ReceiptCheck.Valid, "valid", receipt, new ProvenLicence(state.StateKey[LicencePrefix.Length..], licence, atBlockTime));
        }

        return new ReceiptReport(ReceiptOutcome.Valid, ReceiptCheck.Valid, "valid", receipt, null);
    }

    private const string LicencePrefix = "licence/";

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

    /// <summary>A binary part (header, certificate, proof) or the state key does not decode.</summary>
    Malformed,

    /// <summary>A readable copy (chainId, height, headerHash, blockTime) disagrees with the header bytes.</summary>
    CopyMismatch,

    /// <summary>The proof holds, but the proven value is not what its key's prefix says it is (e.g. not a licence).</summary>
    ValueNotDecodable,
}

/// <summary>The three answers of the offline check, with their exit codes in <c>smartcity receipt verify</c>.</summary>
public enum ReceiptOutcome
{
    /// <summary>Exit 0.</summary>
    Valid = 0,

    /// <summary>Exit 1: a receipt that does not prove what it claims.</summary>
    Invalid = 1,

    /// <summary>Exit 2: the input is not a receipt (bad input).</summary>
    NotAReceipt = 2,
}

/// <summary>A licence's recorded version as a valid receipt proves it, with its status effective at block time.</summary>
public sealed record ProvenLicence(string Identifier, LicenceState Licence, LicenceStatus StatusAtBlockTime);

/// <summary>The verdict on a receipt document; <see cref="Receipt"/> is set whenever the document parsed.</summary>
public sealed record ReceiptReport(ReceiptOutcome Outcome, ReceiptCheck Check, string Reason, Receipt? Receipt, ProvenLicence? Licence)
{
    public int ExitCode => (int)Outcome;
}

public readonly record struct ReceiptVerdict(ReceiptCheck Check, string Reason)
{
    public static ReceiptVerdict Valid { get; } = new(ReceiptCheck.Valid, "valid");

    public bool IsValid => Check == ReceiptCheck.Valid;

    public static ReceiptVerdict Fail(ReceiptCheck check, string reason) => new(check, reason);
}
