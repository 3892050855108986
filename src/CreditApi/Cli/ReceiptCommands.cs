using System.CommandLine;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;

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

    public Command Create() => new Command("receipt", "Offline receipts: check a transaction-inclusion or licence-status receipt without trusting any node")
    {
        new Command("verify", "Verify a receipt: exit 0 VALID, 1 INVALID (with the reason), 2 bad input") { File, Genesis }.Handles(VerifyAsync),
    }.ShowsHelp();

    private static async Task<int> VerifyAsync(CliContext context, CancellationToken cancellationToken)
    {
        var receiptText = await CliFiles.ReadTextAsync("file", context.Required(File), cancellationToken).ConfigureAwait(false);
        var genesisPath = context.Required(Genesis);
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
        var output = context.Output;
        if (!verdict.IsValid)
        {
            await output.WriteLineAsync($"INVALID: {verdict.Check}: {verdict.Reason}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }

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

        return ExitCodes.Success;
    }
}
