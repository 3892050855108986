using System.CommandLine;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity receipt verify`: a bank's or regulator's offline check of a receipt against a genesis file.</summary>
internal sealed class ReceiptCommands : ICliCommandGroup
{
    private static readonly Option<string[]> File = new("--file")
    {
        Description = "The receipt (JSON, docs/receipts.md); repeat it to check several in one run (batch mode)",
        HelpName = "RECEIPT.json",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string> Dir = new("--dir")
    {
        Description = "Check every *.json file of this directory (batch mode; not recursive)",
        HelpName = "DIR",
    };

    private static readonly Option<string> Genesis = new("--genesis")
    {
        Description = "The chain's genesis file: the trust anchor (chain id and validator set)",
        HelpName = "GENESIS.json",
        Required = true,
    };

    public Command Create() => new Command("receipt", "Offline receipts: check a transaction-inclusion, state, licence-verification or history-consistency receipt without trusting any node")
    {
        new Command("verify", "Verify a receipt: exit 0 VALID, 1 INVALID (with the reason), 2 bad input. With several --file or a --dir: one line per receipt, exit 0 all VALID, 1 any INVALID, 2 any not a receipt") { File, Dir, Genesis }.Handles(VerifyAsync),
    }.ShowsHelp();

    /// <summary>Checks a receipt against the genesis alone, offline: the one place the CLI verifies receipts.</summary>
    internal static ReceiptReport VerifyOffline(byte[] receipt, TrustAnchor anchor)
        => ReceiptVerifier.VerifyDocument(receipt, anchor, anchor.CreateScheme());

    private static async Task<int> VerifyAsync(CliContext context, CancellationToken cancellationToken)
    {
        var files = context.Value(File) ?? [];
        var dir = context.Value(Dir);
        if (files.Length == 0 && dir is null)
        {
            throw new CliUsageException("--file or --dir is required: the receipt(s) to check");
        }

        // One receipt is read before the genesis: a file that is not a receipt is bad input whatever the genesis.
        var single = files.Length == 1 && dir is null ? await CliFiles.ReadJsonBytesAsync("file", files[0], cancellationToken).ConfigureAwait(false) : null;
        var genesisPath = context.Required(Genesis);
        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false));
        if (!genesis.IsValid)
        {
            throw new CliUsageException($"genesis {genesisPath}: {genesis.Errors[0]}");
        }

        var anchor = TrustAnchor.FromGenesis(genesis.Document!);
        if (single is not null)
        {
            return await VerifyOneAsync(context, single, anchor).ConfigureAwait(false);
        }

        var paths = new List<string>(files);
        if (dir is not null)
        {
            try
            {
                paths.AddRange(Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new CliUsageException($"--dir: cannot list '{dir}': {e.Message}");
            }
        }

        var receipts = new ReadOnlyMemory<byte>[paths.Count];
        for (var i = 0; i < receipts.Length; i++)
        {
            receipts[i] = await CliFiles.ReadBytesAsync(i < files.Length ? "file" : "dir", paths[i], cancellationToken).ConfigureAwait(false);
        }

        var reports = ReceiptSummary.VerifyAll(receipts, anchor, anchor.CreateScheme());
        var output = context.Output;
        for (var i = 0; i < reports.Length; i++)
        {
            await output.WriteLineAsync(ReceiptSummary.BatchLine(paths[i], reports[i])).ConfigureAwait(false);
        }

        var valid = reports.Count(r => r.Outcome == ReceiptOutcome.Valid);
        var malformed = reports.Count(r => r.Outcome == ReceiptOutcome.NotAReceipt);
        await output.WriteLineAsync($"{reports.Length} receipts: {valid} VALID, {reports.Length - valid - malformed} INVALID, {malformed} not receipts").ConfigureAwait(false);
        return malformed > 0 ? throw new CliUsageException($"{malformed} of {reports.Length} files are not receipts (listed above)")
            : valid == reports.Length ? ExitCodes.Success : ExitCodes.NegativeVerdict;
    }

    private static async Task<int> VerifyOneAsync(CliContext context, byte[] receiptBytes, TrustAnchor anchor)
    {
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

        await output.WriteLineAsync("VALID").ConfigureAwait(false);
        foreach (var line in ReceiptSummary.Describe(report, anchor))
        {
            await output.WriteLineAsync(line).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}
