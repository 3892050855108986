using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity receipt verify`: a bank's or regulator's offline check of a receipt against a genesis file.</summary>
internal static class ReceiptCommand
{
    public static CliCommand Create() => CliCommand.Group(
        "receipt",
        "Offline receipts: check a transaction-inclusion or licence-status receipt without trusting any node",
        CliCommand.Leaf("verify", "Verify a receipt: exit 0 VALID, 1 INVALID (with the reason), 2 bad input", "--file RECEIPT.json --genesis GENESIS.json", VerifyAsync));

    private static async Task<int> VerifyAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("file", "genesis");
        var receiptBytes = await CliFiles.ReadBytesAsync("file", invocation.Required("file"), cancellationToken).ConfigureAwait(false);
        var genesisPath = invocation.Required("genesis");
        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false));
        if (!genesis.IsValid)
        {
            throw new CliUsageException($"genesis {genesisPath}: {genesis.Errors[0]}");
        }

        var anchor = TrustAnchor.FromGenesis(genesis.Document!);
        var report = ReceiptVerifier.VerifyDocument(receiptBytes, anchor, Secp256k1.Default);
        switch (report.Outcome)
        {
            case ReceiptOutcome.NotAReceipt:
                throw new CliUsageException($"receipt: {report.Reason}");
            case ReceiptOutcome.Invalid:
                await invocation.Output.WriteLineAsync($"INVALID: {report.Check}: {report.Reason}").ConfigureAwait(false);
                return CommandLine.NegativeVerdict;
        }

        var output = invocation.Output;
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
            case StateReceipt state when state.Value is null:
                await output.WriteLineAsync($"  '{state.StateKey}' is absent from the state").ConfigureAwait(false);
                break;
            case StateReceipt when report.Licence is { } proven:
                var licence = proven.Licence;
                await output.WriteLineAsync($"  licence {proven.Identifier}: status {(int)proven.StatusAtBlockTime:00} {proven.StatusAtBlockTime} at block time (recorded {(int)licence.Status:00} {licence.Status}), holder {licence.Holder}, valid to {UnixDate(licence.ValidTo)}").ConfigureAwait(false);
                break;
            case StateReceipt state:
                await output.WriteLineAsync($"  '{state.StateKey}' = 0x{Convert.ToHexStringLower(state.Value!)}").ConfigureAwait(false);
                break;
        }

        return CommandLine.Success;
    }

    /// <summary>A Unix time in seconds as a UTC date, or the raw number when it is past year 9999.</summary>
    private static string UnixDate(ulong seconds)
        => seconds <= 253_402_300_799 ? DateTimeOffset.FromUnixTimeSeconds((long)seconds).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : $"{seconds} (Unix seconds)";
}
