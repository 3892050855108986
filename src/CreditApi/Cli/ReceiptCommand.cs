using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;

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
        var receiptText = await CliFiles.ReadTextAsync("file", invocation.Required("file"), cancellationToken).ConfigureAwait(false);
        var genesisPath = invocation.Required("genesis");
        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false));
        if (!genesis.IsValid)
        {
            throw new CliUsageException($"genesis {genesisPath}: {genesis.Errors[0]}");
        }

        if (!ReceiptJson.TryParse(receiptText, out var receipt, out var error))
        {
            throw new CliUsageException($"receipt: {error}");
        }

        var anchor = TrustAnchor.FromGenesis(genesis.Document!);
        var verdict = ReceiptVerifier.Verify(receipt, anchor, Secp256k1.Default);
        if (!verdict.IsValid)
        {
            await invocation.Output.WriteLineAsync($"INVALID: {verdict.Check}: {verdict.Reason}").ConfigureAwait(false);
            return CommandLine.NegativeVerdict;
        }

        var output = invocation.Output;
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
            case StateReceipt state when state.StateKey.StartsWith("licence/", StringComparison.Ordinal):
                var licence = StateValue.Decode(state.Value!, LicenceState.Read);
                var status = licence.EffectiveStatusAt((ulong)header.Timestamp.ToUnixTimeSeconds());
                await output.WriteLineAsync($"  licence {state.StateKey["licence/".Length..]}: status {(int)status:00} {status} at block time (recorded {(int)licence.Status:00} {licence.Status}), holder {licence.Holder}, valid to {DateTimeOffset.FromUnixTimeSeconds((long)licence.ValidTo):yyyy-MM-dd}").ConfigureAwait(false);
                break;
            case StateReceipt state:
                await output.WriteLineAsync($"  '{state.StateKey}' = 0x{Convert.ToHexStringLower(state.Value!)}").ConfigureAwait(false);
                break;
        }

        return CommandLine.Success;
    }
}
