using System.CommandLine;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity receipt verify`: a bank's or regulator's offline check of a receipt against a genesis file.</summary>
internal sealed class ReceiptCommands : ICliCommandGroup
{
    private static readonly Option<string> File = new("--file")
    {
        Description = "The receipt (JSON, docs/receipts.md)",
        HelpName = "RECEIPT.json",
        Required = true,
    };

    private static readonly Option<string> Genesis = new("--genesis")
    {
        Description = "The chain's genesis file: the trust anchor (chain id and validator set)",
        HelpName = "GENESIS.json",
        Required = true,
    };

    public Command Create() => new Command("receipt", "Offline receipts: check a transaction-inclusion, state, licence-verification or history-consistency receipt without trusting any node")
    {
        new Command("verify", "Verify a receipt: exit 0 VALID, 1 INVALID (with the reason), 2 bad input") { File, Genesis }.Handles(VerifyAsync),
    }.ShowsHelp();

    /// <summary>Checks a receipt against the genesis alone, offline: the one place the CLI verifies receipts.</summary>
    internal static ReceiptReport VerifyOffline(byte[] receipt, TrustAnchor anchor)
        => ReceiptVerifier.VerifyDocument(receipt, anchor, CryptoSuite.For(anchor.Crypto).Signatures);

    private static async Task<int> VerifyAsync(CliContext context, CancellationToken cancellationToken)
    {
        var receiptBytes = await CliFiles.ReadJsonBytesAsync("file", context.Required(File), cancellationToken).ConfigureAwait(false);
        var genesisPath = context.Required(Genesis);
        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false));
        if (!genesis.IsValid)
        {
            throw new CliUsageException($"genesis {genesisPath}: {genesis.Errors[0]}");
        }

        var anchor = TrustAnchor.FromGenesis(genesis.Document!);
        var report = VerifyOffline(receiptBytes, anchor);
        var output = context.Output;
        switch (report.Outcome)
        {
            case ReceiptOutcome.NotAReceipt:
                throw new CliUsageException($"receipt: {report.Reason}");
            case ReceiptOutcome.Invalid:
                await output.WriteLineAsync($"INVALID: {report.Check}: {report.Reason}").ConfigureAwait(false);
                return ExitCodes.NegativeVerdict;
        }

        var receipt = report.Receipt!;
        var header = receipt.Header;
        await output.WriteLineAsync("VALID").ConfigureAwait(false);
        await output.WriteLineAsync($"  chain {receipt.ChainId}, block {header.Height} ({header.Hash}) at {header.Timestamp:O}").ConfigureAwait(false);
        await output.WriteLineAsync($"  certified by {receipt.Certificate.Seals.Length} of {anchor.Validators.Count} validators (quorum {anchor.Validators.Quorum})").ConfigureAwait(false);
        switch (receipt)
        {
            case InclusionReceipt inclusion:
                await output.WriteLineAsync($"  transaction {inclusion.Proof.LeafIndex} of {inclusion.Proof.TreeSize} in the history tree, {inclusion.Transaction.Length} bytes").ConfigureAwait(false);
                break;
            case LicenceReceipt combined when report.Licence is { } provenLicence:
                await output.WriteLineAsync($"  transaction {combined.Inclusion.LeafIndex} of {combined.Inclusion.TreeSize} in the history tree wrote the licence's current record").ConfigureAwait(false);
                await output.WriteLineAsync(LicenceLine(provenLicence)).ConfigureAwait(false);
                break;
            case ConsistencyReceipt consistency:
                await output.WriteLineAsync($"  the history of block {consistency.FromHeader.Height} ({consistency.FromHeader.HistorySize} transactions, {consistency.FromHeader.Hash}) is a prefix of block {header.Height}'s ({header.HistorySize} transactions): nothing was rewritten").ConfigureAwait(false);
                break;
            case StateReceipt state when state.Value is null:
                await output.WriteLineAsync($"  '{state.StateKey}' is absent from the state").ConfigureAwait(false);
                break;
            case StateReceipt when report.Licence is { } proven:
                await output.WriteLineAsync(LicenceLine(proven)).ConfigureAwait(false);
                break;
            case StateReceipt state:
                await output.WriteLineAsync($"  '{state.StateKey}' = 0x{Convert.ToHexStringLower(state.Value!)}").ConfigureAwait(false);
                break;
        }

        return ExitCodes.Success;
    }

    private static string LicenceLine(ProvenLicence proven)
        => $"  licence {proven.Identifier}: status {(int)proven.StatusAtBlockTime:00} {proven.StatusAtBlockTime} at block time (recorded {(int)proven.Licence.Status:00} {proven.Licence.Status}), holder {proven.Licence.Holder}, valid to {UnixDate(proven.Licence.ValidTo)}";

    /// <summary>A Unix time in seconds as a UTC date, or the raw number when it is past year 9999.</summary>
    private static string UnixDate(ulong seconds)
        => seconds <= 253_402_300_799 ? DateTimeOffset.FromUnixTimeSeconds((long)seconds).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : $"{seconds} (Unix seconds)";
}
