using System.Globalization;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Receipts;

/// <summary>
/// What a verified receipt proves, as the lines <c>smartcity receipt verify</c> and the stand-alone
/// <c>smartcity-receipt</c> verifier print, and the batch check both run over many receipts (docs/receipts.md).
/// </summary>
public static class ReceiptSummary
{
    /// <summary>The lines under <c>VALID</c> for a valid report (empty for any other outcome).</summary>
    public static IReadOnlyList<string> Describe(ReceiptReport report, TrustAnchor anchor)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(anchor);
        if (report.Outcome != ReceiptOutcome.Valid || report.Receipt is not { } receipt)
        {
            return [];
        }

        var header = receipt.Header;
        var lines = new List<string>(4)
        {
            Invariant($"  chain {receipt.ChainId}, block {header.Height} ({header.Hash}) at {header.Timestamp:O}"),
            Invariant($"  certified by {receipt.Certificate.Seals.Length} of {anchor.Validators.Count} validators (quorum {anchor.Validators.Quorum})"),
        };
        switch (receipt)
        {
            case InclusionReceipt inclusion:
                lines.Add(Invariant($"  transaction {inclusion.Proof.LeafIndex} of {inclusion.Proof.TreeSize} in the history tree, {inclusion.Transaction.Length} bytes"));
                break;
            case LicenceReceipt combined when report.Licence is { } provenLicence:
                lines.Add(Invariant($"  transaction {combined.Inclusion.LeafIndex} of {combined.Inclusion.TreeSize} in the history tree wrote the licence's current record"));
                lines.Add(LicenceLine(provenLicence));
                break;
            case ConsistencyReceipt consistency:
                lines.Add(Invariant($"  the history of block {consistency.FromHeader.Height} ({consistency.FromHeader.HistorySize} transactions, {consistency.FromHeader.Hash}) is a prefix of block {header.Height}'s ({header.HistorySize} transactions): nothing was rewritten"));
                break;
            case StateReceipt state when state.Value is null:
                lines.Add($"  '{state.StateKey}' is absent from the state");
                break;
            case StateReceipt when report.Licence is { } proven:
                lines.Add(LicenceLine(proven));
                break;
            case StateReceipt state:
                lines.Add($"  '{state.StateKey}' = 0x{Convert.ToHexStringLower(state.Value!)}");
                break;
        }

        return lines;
    }

    /// <summary>
    /// Checks every receipt against one anchor, in parallel across the cores (each check is independent); the reports
    /// come back in the order of <paramref name="receipts"/>. Never throws for any receipt's bytes.
    /// </summary>
    public static ReceiptReport[] VerifyAll(IReadOnlyList<ReadOnlyMemory<byte>> receipts, TrustAnchor anchor, ISignatureScheme curve)
    {
        ArgumentNullException.ThrowIfNull(receipts);
        var reports = new ReceiptReport[receipts.Count];
        if (receipts.Count < 4)
        {
            for (var i = 0; i < reports.Length; i++)
            {
                reports[i] = ReceiptVerifier.VerifyDocument(receipts[i].Span, anchor, curve);
            }

            return reports;
        }

        Parallel.For(0, reports.Length, i => reports[i] = ReceiptVerifier.VerifyDocument(receipts[i].Span, anchor, curve));
        return reports;
    }

    /// <summary>One line per receipt of a batch: <c>VALID name  block H, …</c>, <c>INVALID name: check: reason</c>, <c>NOT A RECEIPT name: reason</c>.</summary>
    public static string BatchLine(string name, ReceiptReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Outcome switch
        {
            ReceiptOutcome.Valid => Invariant($"VALID {name}  block {report.Receipt!.Header.Height}{(report.Licence is { } l ? Invariant($", licence {l.Identifier} status {(int)l.StatusAtBlockTime:00} {l.StatusAtBlockTime}") : "")}"),
            ReceiptOutcome.Invalid => $"INVALID {name}: {report.Check}: {report.Reason}",
            _ => $"NOT A RECEIPT {name}: {report.Reason}",
        };
    }

    private static string LicenceLine(ProvenLicence proven)
        => Invariant($"  licence {proven.Identifier}: status {(int)proven.StatusAtBlockTime:00} {proven.StatusAtBlockTime} at block time (recorded {(int)proven.Licence.Status:00} {proven.Licence.Status}), holder {proven.Licence.Holder}, valid to {UnixDate(proven.Licence.ValidTo)}");

    /// <summary>A Unix time in seconds as a UTC date, or the raw number when it is past year 9999.</summary>
    private static string UnixDate(ulong seconds)
        => seconds <= 253_402_300_799 ? DateTimeOffset.FromUnixTimeSeconds((long)seconds).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : $"{seconds} (Unix seconds)";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
