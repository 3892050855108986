using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
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
    public static ReceiptReport VerifyDocument(ReadOnlySpan<byte> utf8Json, TrustAnchor anchor, ISignatureScheme curve)
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

        if (receipt is LicenceReceipt combined)
        {
            // Verify has decoded the value and the transaction already; a valid receipt always carries a licence.
            _ = StateValue.TryDecode(combined.Value, LicenceState.Read, out var proven, out _);
            var status = proven!.EffectiveStatusAt((ulong)receipt.Header.TimestampMs / 1000);
            return new ReceiptReport(ReceiptOutcome.Valid, ReceiptCheck.Valid, "valid", receipt, new ProvenLicence(combined.Identifier, proven, status));
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

    public static ReceiptVerdict Verify(Receipt receipt, TrustAnchor anchor, ISignatureScheme curve)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(curve);
        if (receipt.Crypto != anchor.Crypto)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.WrongSuite, $"receipt is of the {receipt.Crypto.ToName()} crypto suite, the anchor's chain uses {anchor.Crypto.ToName()}");
        }

        if (curve.Suite != anchor.Crypto)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.WrongSuite, $"the anchor's chain uses the {anchor.Crypto.ToName()} crypto suite, the verifier was given a {curve.Suite.ToName()} signature scheme");
        }

        if (!anchor.Accepts(curve))
        {
            return ReceiptVerdict.Fail(ReceiptCheck.WrongSuite, $"the anchor's chain signs with the SM2 identifier '{anchor.Sm2Id}', the verifier was given an SM2 scheme with another");
        }

        if (receipt.ChainId != anchor.ChainId || receipt.Header.ChainId != anchor.ChainId)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.WrongChain, $"receipt is for chain {receipt.ChainId} (header {receipt.Header.ChainId}), the anchor is chain {anchor.ChainId}");
        }

        var suite = CryptoSuite.For(anchor.Crypto);
        var walk = WalkHandOvers(receipt, anchor, curve, suite, out var schedule);
        if (!walk.IsValid)
        {
            return walk;
        }

        var sealedBy = SetAt(schedule, receipt.Header.Height);
        if (receipt.Header.ValidatorSetHash != sealedBy.Hash && !receipt.HandOvers.IsEmpty)
        {
            return SkippedHandOver("the receipt's block", receipt.Header, sealedBy, schedule.Count - 1);
        }

        // Without hand-overs the header must be sealed by the genesis set: another set is another chain, or a block after
        // a change whose receipt lacks its hand-overs — the certificate check says which set the header names.
        var certificate = receipt.Certificate.Verify(receipt.Header, sealedBy, anchor.DomainSeparator, curve);
        if (!certificate.IsValid)
        {
            var hint = certificate.Check == CertificateCheck.ValidatorSetMismatch ? " (a receipt of a block after a validator-set change must carry its hand-overs)" : "";
            return ReceiptVerdict.Fail(ReceiptCheck.CertificateInvalid, $"certificate: {certificate.Check}: {certificate.Reason}{hint}");
        }

        return receipt switch
        {
            InclusionReceipt inclusion => VerifyInclusion(inclusion, suite),
            StateReceipt state => VerifyState(state, suite),
            LicenceReceipt licence => VerifyLicence(licence, suite),
            ConsistencyReceipt consistency => VerifyConsistency(consistency, anchor, curve, suite, schedule),
            _ => ReceiptVerdict.Fail(ReceiptCheck.UnknownType, $"unknown receipt type {receipt.GetType().Name}"),
        };
    }

    /// <summary>
    /// Walks the receipt's validator-set hand-overs from the genesis set (docs/receipts.md, "Validator-set hand-overs"):
    /// each, in height order and below the receipt's block, must be a header of this chain sealed by the set in force
    /// at its height (the genesis set, or the set the hand-over before it installed), certified by a quorum of that
    /// outgoing set, with a state proof under its state root that the state's <c>validator-set</c> holds exactly the
    /// incoming set, which must differ from the outgoing one. The schedule lists (first height, set) from the genesis on.
    /// </summary>
    private static ReceiptVerdict WalkHandOvers(Receipt receipt, TrustAnchor anchor, ISignatureScheme curve, CryptoSuite suite, out List<(long Since, ValidatorSet Set)> schedule)
    {
        schedule = [(0, anchor.Validators)];
        var current = anchor.Validators;
        var previous = -1L;
        for (var i = 0; i < receipt.HandOvers.Length; i++)
        {
            var handOver = receipt.HandOvers[i];
            var header = handOver.Header;
            var at = $"hand-over {i} (block {header.Height})";
            if (header.ChainId != anchor.ChainId || header.Crypto != anchor.Crypto)
            {
                return ReceiptVerdict.Fail(ReceiptCheck.HandOverInvalid, $"{at} is a header of chain {header.ChainId} ({header.Crypto.ToName()}), the anchor is chain {anchor.ChainId} ({anchor.Crypto.ToName()})");
            }

            if (header.Height <= previous)
            {
                return ReceiptVerdict.Fail(ReceiptCheck.HandOverInvalid, $"{at} is not after the hand-over before it (block {previous}): hand-overs are listed once each, in height order");
            }

            if (header.Height >= receipt.Header.Height)
            {
                return ReceiptVerdict.Fail(ReceiptCheck.HandOverInvalid, $"{at} is not below the receipt's block {receipt.Header.Height}");
            }

            if (header.ValidatorSetHash != current.Hash)
            {
                return SkippedHandOver(at, header, current, i);
            }

            var certificate = handOver.Certificate.Verify(header, current, anchor.DomainSeparator, curve);
            if (!certificate.IsValid)
            {
                return ReceiptVerdict.Fail(ReceiptCheck.HandOverInvalid, $"{at}: certificate by the outgoing set: {certificate.Check}: {certificate.Reason}");
            }

            if (!ValidatorSetHandOver.ProvesIncoming(header, handOver.Validators, handOver.Proof, suite))
            {
                return ReceiptVerdict.Fail(ReceiptCheck.HandOverInvalid, $"{at}: the state proof does not show validator-set = [{string.Join(", ", handOver.Validators.Members)}] under the block's state root {header.StateRoot}");
            }

            if (handOver.Validators.Hash == current.Hash)
            {
                return ReceiptVerdict.Fail(ReceiptCheck.HandOverInvalid, $"{at} does not change the validator set");
            }

            current = handOver.Validators;
            previous = header.Height;
            schedule.Add((header.Height + 1, current));
        }

        return ReceiptVerdict.Valid;
    }

    /// <summary>The set the schedule puts in force at <paramref name="height"/>.</summary>
    private static ValidatorSet SetAt(List<(long Since, ValidatorSet Set)> schedule, long height)
    {
        var set = schedule[0].Set;
        foreach (var (since, next) in schedule)
        {
            if (since <= height)
            {
                set = next;
            }
        }

        return set;
    }

    private static ReceiptVerdict SkippedHandOver(string what, BlockHeader header, ValidatorSet expected, int handOversBefore)
        => ReceiptVerdict.Fail(ReceiptCheck.HandOverMissing,
            $"{what} at height {header.Height} is sealed by validator set {header.ValidatorSetHash}, but the genesis set and the {handOversBefore} hand-over(s) before it give {expected.Hash}: the receipt skips a validator-set hand-over");

    private static ReceiptVerdict VerifyInclusion(InclusionReceipt receipt, CryptoSuite suite)
    {
        var header = receipt.Header;
        if (receipt.Proof.TreeSize != header.HistorySize)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"proof is for a history of {receipt.Proof.TreeSize} transactions, the header commits to {header.HistorySize}");
        }

        return receipt.Proof.Verify(suite.HistoryLeafHash(receipt.Transaction), header.HistoryRoot, suite)
            ? ReceiptVerdict.Valid
            : ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"inclusion proof of leaf {receipt.Proof.LeafIndex} does not lead to the header's history root {header.HistoryRoot}");
    }

    /// <summary>
    /// Both proofs lead to the one certified header; the proven value is a licence record; the included transaction is
    /// a licence transaction of this chain that names the licence (as its identifier, or as the previous identifier of
    /// a change).
    /// </summary>
    private static ReceiptVerdict VerifyLicence(LicenceReceipt receipt, CryptoSuite suite)
    {
        var header = receipt.Header;
        if (receipt.Inclusion.TreeSize != header.HistorySize)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"inclusion proof is for a history of {receipt.Inclusion.TreeSize} transactions, the header commits to {header.HistorySize}");
        }

        if (!receipt.Inclusion.Verify(suite.HistoryLeafHash(receipt.Transaction), header.HistoryRoot, suite))
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"inclusion proof of leaf {receipt.Inclusion.LeafIndex} does not lead to the header's history root {header.HistoryRoot}");
        }

        if (!receipt.StateProof.Verify(header.StateRoot, receipt.Key.HashIn(suite), receipt.Value, suite))
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"state proof of the value of '{receipt.StateKey}' does not lead to the header's state root {header.StateRoot}");
        }

        if (!StateValue.TryDecode(receipt.Value, LicenceState.Read, out _, out var error))
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ValueNotDecodable, $"the proven value of '{receipt.StateKey}' is not a licence record: {error}");
        }

        var decoded = TransactionCodec.Decode(receipt.Transaction);
        if (!decoded.IsValid)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.TransactionMismatch, $"the included transaction does not decode: {decoded.Error}");
        }

        var transaction = decoded.Transaction!;
        var names = transaction.Body switch
        {
            LicenceIssue issue => issue.Identifier == receipt.Identifier,
            LicenceSuspend suspend => suspend.Identifier == receipt.Identifier,
            LicenceResume resume => resume.Identifier == receipt.Identifier,
            LicenceRevoke revoke => revoke.Identifier == receipt.Identifier,
            LicenceCancel cancel => cancel.Identifier == receipt.Identifier,
            LicenceChange change => change.Identifier == receipt.Identifier || change.PreviousIdentifier == receipt.Identifier,
            _ => false,
        };
        if (transaction.ChainId != receipt.ChainId || !names)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.TransactionMismatch, $"the included transaction ({transaction.Kind} on chain {transaction.ChainId}) is not a licence transaction of licence {receipt.Identifier} on chain {receipt.ChainId}");
        }

        return ReceiptVerdict.Valid;
    }

    /// <summary>Both headers are certified, of this chain, in order, and the proof leads from the earlier history root to the later.</summary>
    private static ReceiptVerdict VerifyConsistency(ConsistencyReceipt receipt, TrustAnchor anchor, ISignatureScheme curve, CryptoSuite suite, List<(long Since, ValidatorSet Set)> schedule)
    {
        var from = receipt.FromHeader;
        var to = receipt.Header;
        if (from.ChainId != anchor.ChainId)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.WrongChain, $"the earlier header is for chain {from.ChainId}, the anchor is chain {anchor.ChainId}");
        }

        var fromSet = SetAt(schedule, from.Height);
        if (from.ValidatorSetHash != fromSet.Hash)
        {
            return SkippedHandOver("the earlier header", from, fromSet, schedule.Count(s => s.Since <= from.Height) - 1);
        }

        var certificate = receipt.FromCertificate.Verify(from, fromSet, anchor.DomainSeparator, curve);
        if (!certificate.IsValid)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.CertificateInvalid, $"certificate of the earlier header: {certificate.Check}: {certificate.Reason}");
        }

        if (from.Height > to.Height || from.HistorySize > to.HistorySize)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"the earlier header (block {from.Height}, {from.HistorySize} transactions) is not before the later one (block {to.Height}, {to.HistorySize} transactions)");
        }

        if (receipt.Proof.FirstSize != from.HistorySize || receipt.Proof.SecondSize != to.HistorySize)
        {
            return ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"the proof is between histories of {receipt.Proof.FirstSize} and {receipt.Proof.SecondSize} transactions, the headers commit to {from.HistorySize} and {to.HistorySize}");
        }

        return receipt.Proof.Verify(from.HistoryRoot, to.HistoryRoot, suite)
            ? ReceiptVerdict.Valid
            : ReceiptVerdict.Fail(ReceiptCheck.ProofInvalid, $"the consistency proof does not lead from the history root {from.HistoryRoot} of block {from.Height} to {to.HistoryRoot} of block {to.Height}");
    }

    private static ReceiptVerdict VerifyState(StateReceipt receipt, CryptoSuite suite)
    {
        var what = receipt.Value is null ? "absence" : "value";
        return receipt.Proof.Verify(receipt.Header.StateRoot, receipt.Key.HashIn(suite), receipt.Value, suite)
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

    /// <summary>A licence receipt's transaction does not decode or is not a transaction of that licence.</summary>
    TransactionMismatch,

    /// <summary>The receipt is of another crypto suite than the anchor's chain (or the verifier's signature scheme is): an eth receipt never verifies under a gm anchor, nor the reverse.</summary>
    WrongSuite,

    /// <summary>A validator-set hand-over the receipt carries is out of order, of another chain, not certified by the outgoing set, or its state proof does not show the incoming set.</summary>
    HandOverInvalid,

    /// <summary>A certified header of the receipt (or of a hand-over) is sealed by another set than the genesis and the hand-overs before it give: a hand-over is missing.</summary>
    HandOverMissing,
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
