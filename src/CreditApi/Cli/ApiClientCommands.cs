using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Contracts.Credit.V1;
using SmartCity.CreditApi.Auth;
using SmartCity.CreditApi.Client;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Receipts;
using Spectre.Console;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// What every credit-API client command shares (docs/api.md, docs/cli.md): the node's address, the member key every
/// request is signed with, the genesis file (the chain id the signature covers, and the trust anchor receipts are
/// checked against offline) and the purpose code. A refusal by the node is one line and exit 2:
/// <c>smartcity licence verify: the node refused: PERMISSION_DENIED MissingRole: …</c>.
/// </summary>
internal static class ApiClientOptions
{
    public static readonly Option<string> Api = new("--api")
    {
        Description = "The node's credit API, http://HOST:PORT (h2c) or https://HOST:PORT",
        HelpName = "URL",
        Required = true,
    };

    public static readonly Option<string> Key = new("--key")
    {
        Description = "The member key the requests are signed with: a keystore (with --password-file/--password-env) or, with --insecure-plaintext, a clear-text key",
        HelpName = "FILE",
        Required = true,
    };

    /// <summary>--api and --key for a command that also works without the API (<c>score</c>): not required by the parser.</summary>
    public static readonly Option<string> OptionalApi = new("--api") { Description = "Ask the node's credit API at http://HOST:PORT or https://HOST:PORT (signed with --key, chain id from --genesis) instead of reading a store", HelpName = "URL" };

    public static readonly Option<string> OptionalKey = new("--key") { Description = "With --api: the member key the request is signed with (a keystore with --password-file/--password-env)", HelpName = "FILE" };

    public static readonly Option<string> PasswordFile = new("--password-file") { Description = "The keystore password: first line of this file (mode 0600)", HelpName = "FILE" };
    public static readonly Option<string> PasswordEnv = new("--password-env") { Description = "The keystore password: this environment variable", HelpName = "VAR" };
    public static readonly Option<bool> InsecurePlaintext = new("--insecure-plaintext") { Description = "Accept a CLEAR-TEXT key file (development only)" };

    public static readonly Option<string> Genesis = new("--genesis")
    {
        Description = "The chain's genesis file: its chain id is part of every signed request, its validators the trust anchor of the receipts checked offline",
        HelpName = "GENESIS.json",
        Required = true,
    };

    public static readonly Option<string> Purpose = new("--purpose")
    {
        Description = "The purpose code sent with every request and written to the access log (1-32 of A-Z, 0-9, _), e.g. CREDIT_CHECK, LOAN_REVIEW, SUPERVISION",
        HelpName = "CODE",
    };

    public static Option[] All(bool genesisRequired = true) => genesisRequired
        ? [Api, Key, PasswordFile, PasswordEnv, InsecurePlaintext, Genesis, Purpose]
        : [Api, Key, PasswordFile, PasswordEnv, InsecurePlaintext, Purpose];

    /// <summary>The genesis document a command named (strict UTF-8, validated).</summary>
    public static async Task<GenesisDocument> GenesisAsync(string path, CancellationToken cancellationToken)
    {
        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", path, cancellationToken).ConfigureAwait(false));
        return genesis.IsValid ? genesis.Document! : throw new CliUsageException($"genesis {path}: {genesis.Errors[0]}");
    }

    /// <summary>The node's address as a URI, or one usage line.</summary>
    public static Uri Address(CliContext context, Option<string>? api = null)
    {
        var text = context.Value(api ?? Api) ?? throw new CliUsageException("--api URL is required");
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.AbsolutePath == "/" && uri.Query.Length == 0
            ? uri
            : throw new CliUsageException($"--api: '{text}' is not http://HOST:PORT or https://HOST:PORT");
    }

    /// <summary>A client signing with the member key of <see cref="Key"/> for <paramref name="genesis"/>'s chain.</summary>
    public static (CreditApiClient Client, KeySigner Signer) Open(CliContext context, GenesisDocument genesis, string defaultPurpose, Option<string>? api = null, Option<string>? key = null)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        var address = Address(context, api);
        var purpose = context.Value(Purpose) ?? defaultPurpose;
        if (!ApiRequestSigning.IsPurposeCode(purpose))
        {
            throw new CliUsageException($"--purpose: '{purpose}' is not a purpose code (1-{ApiRequestSigning.MaxPurposeLength} of A-Z, 0-9 and _)");
        }

        var keyPath = context.Value(key ?? Key) ?? throw new CliUsageException("--key FILE is required with --api: the member key the request is signed with");
        var suite = genesis.Crypto.CreateSuite();
        var signer = KeysCommands.OpenSigner(context, keyPath, PasswordFile, PasswordEnv, InsecurePlaintext, suite.Signatures);
        return (new CreditApiClient(address, signer, genesis.ChainId, purpose, suite: suite), signer);
    }

    /// <summary>Runs a call; a refusal or an unreachable node is one usage line (exit 2).</summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Refused(e);
        }
    }

    public static CliUsageException Refused(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var code = e.Trailers.GetValue("x-rejection-code");
        var status = e.StatusCode.ToString().ToUpperInvariant() switch
        {
            "INVALIDARGUMENT" => "INVALID_ARGUMENT",
            "NOTFOUND" => "NOT_FOUND",
            "ALREADYEXISTS" => "ALREADY_EXISTS",
            "PERMISSIONDENIED" => "PERMISSION_DENIED",
            "RESOURCEEXHAUSTED" => "RESOURCE_EXHAUSTED",
            "FAILEDPRECONDITION" => "FAILED_PRECONDITION",
            "OUTOFRANGE" => "OUT_OF_RANGE",
            "DEADLINEEXCEEDED" => "DEADLINE_EXCEEDED",
            var other => other,
        };
        var detail = e.Status.Detail.ReplaceLineEndings(" ");
        if (code is not null && detail.StartsWith(code + ": ", StringComparison.Ordinal))
        {
            detail = detail[(code.Length + 2)..];
        }

        return e.StatusCode == StatusCode.Unavailable && code is null
            ? new CliUsageException($"the node at --api is unreachable: {detail}")
            : new CliUsageException($"the node refused: {status}{(code is null ? string.Empty : " " + code)}: {detail}");
    }

    /// <summary>Checks a receipt the node returned against the genesis, offline.</summary>
    public static ReceiptReport VerifyReceipt(string receiptJson, GenesisDocument genesis)
        => ReceiptCommands.VerifyOffline(System.Text.Encoding.UTF8.GetBytes(receiptJson), TrustAnchor.FromGenesis(genesis));

    /// <summary>Writes a receipt to a new file (never overwriting one).</summary>
    public static async Task SaveAsync(string option, string path, string json, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"--{option}: cannot write '{path}': {e.Message}");
        }
    }

    public static Option<long?> HeightOption(string name, string description, bool required = false) => new(name)
    {
        Description = description,
        HelpName = "H",
        Required = required,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var height))
            {
                return height;
            }

            result.AddError($"{name} must be 0 or more (a whole block height), got '{text}'");
            return null;
        },
    };
}

/// <summary>
/// <c>smartcity licence verify ID</c>: a bank's check of an e-licence over the credit API (VerifyLicence), with the
/// combined receipt verified offline against the genesis before anything is printed; exit 0 VALID (and the holder
/// matches when one is expected), 1 INVALID or another holder, 2 bad input or a refusal.
/// </summary>
internal sealed class LicenceCommands : ICliCommandGroup
{
    private static readonly Argument<string> Identifier = new("ID") { Description = "The e-licence identifier (national format, e.g. 1.2.156.3005.2.…)" };

    private static readonly Option<string> ExpectedHolder = new("--expected-holder") { Description = "The holder the bank expects (uscc:…); a different holder is exit 1", HelpName = "SUBJECT" };

    private static readonly Option<string> SaveReceipt = new("--save-receipt") { Description = "Write the licence-verification receipt to this new file (check it again later with smartcity receipt verify)", HelpName = "FILE" };

    public Command Create()
    {
        var verify = new Command("verify", "Verify an e-licence over the credit API and check its combined receipt offline: exit 0 VALID, 1 INVALID or another holder, 2 bad input or refused") { Identifier, ExpectedHolder, SaveReceipt };
        foreach (var option in ApiClientOptions.All())
        {
            verify.Options.Add(option);
        }

        return new Command("licence", "E-licences over the credit API (AttestationService)") { verify.Handles(VerifyAsync) }.ShowsHelp();
    }

    private static async Task<int> VerifyAsync(CliContext context, CancellationToken cancellationToken)
    {
        var identifier = context.ParseResult.GetRequiredValue(Identifier);
        var genesis = await ApiClientOptions.GenesisAsync(context.Required(ApiClientOptions.Genesis), cancellationToken).ConfigureAwait(false);
        var expected = context.Value(ExpectedHolder);
        if (expected is not null)
        {
            ScoreCommand.ParseSubject(expected);
        }

        var save = context.Value(SaveReceipt);
        if (save is not null && File.Exists(save))
        {
            throw new CliUsageException($"--save-receipt: '{save}' exists; a receipt is never written over a file");
        }

        var (client, signer) = ApiClientOptions.Open(context, genesis, "LOAN_REVIEW");
        using var _ = signer;
        using var __ = client;
        var answer = await ApiClientOptions.CallAsync(() => client.Attestation.VerifyLicenceAsync(new VerifyLicenceRequest { Identifier = identifier, ExpectedHolder = expected ?? string.Empty }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var report = ApiClientOptions.VerifyReceipt(answer.ReceiptJson, genesis);
        if (save is not null)
        {
            await ApiClientOptions.SaveAsync("save-receipt", save, answer.ReceiptJson, cancellationToken).ConfigureAwait(false);
        }

        var output = context.Output;
        if (report.Outcome != ReceiptOutcome.Valid || report.Licence is not { } proven)
        {
            await output.WriteLineAsync($"INVALID: the node's receipt does not verify: {report.Check}: {report.Reason}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }

        if (proven.Identifier != identifier)
        {
            await output.WriteLineAsync($"INVALID: the receipt proves licence {proven.Identifier}, not {identifier}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }

        var header = report.Receipt!.Header;
        var matches = expected is null || proven.Licence.Holder == expected;
        await output.WriteLineAsync(matches ? "VALID" : "INVALID: another holder").ConfigureAwait(false);
        await output.WriteLineAsync($"  licence {proven.Identifier}: status {(int)proven.StatusAtBlockTime:00} {proven.StatusAtBlockTime} at block time, holder {proven.Licence.Holder}{(expected is null ? string.Empty : matches ? " (as expected)" : $" (expected {expected})")}").ConfigureAwait(false);
        await output.WriteLineAsync($"  proven by chain {report.Receipt.ChainId}, block {header.Height} ({header.Hash}) at {header.Timestamp:O}, checked offline against {context.Required(ApiClientOptions.Genesis)}").ConfigureAwait(false);
        if (save is not null)
        {
            await output.WriteLineAsync($"  receipt saved to {save}").ConfigureAwait(false);
        }

        return matches ? ExitCodes.Success : ExitCodes.NegativeVerdict;
    }
}

/// <summary>
/// <c>smartcity audit verify [--from H] [--to H]</c> (the node re-verifies its chain, streamed with a progress bar) and
/// <c>smartcity audit consistency --from H --to H</c> (a history-consistency receipt, checked offline): a regulator's
/// audit over the credit API (AuditService).
/// </summary>
internal sealed class AuditCommands : ICliCommandGroup
{
    private static readonly Option<long?> VerifyFrom = ApiClientOptions.HeightOption("--from", "First block to verify (default 0)");
    private static readonly Option<long?> VerifyTo = ApiClientOptions.HeightOption("--to", "Last block to verify (default: the head when the call starts)");
    private static readonly Option<long?> ConsistencyFrom = ApiClientOptions.HeightOption("--from", "The earlier certified head", required: true);
    private static readonly Option<long?> ConsistencyTo = ApiClientOptions.HeightOption("--to", "The later certified head", required: true);
    private static readonly Option<string> SaveReceipt = new("--save-receipt") { Description = "Write the history-consistency receipt to this new file", HelpName = "FILE" };

    public Command Create()
    {
        var verify = new Command("verify", "Have the node re-verify blocks (certificates, links, roots, every signature), with a progress bar: exit 0 every block VALID, 1 one INVALID, 2 bad input or refused") { VerifyFrom, VerifyTo };
        var consistency = new Command("consistency", "Get the proof that the history certified at --from is a prefix of the one certified at --to, and check it offline: exit 0 VALID, 1 INVALID, 2 bad input or refused") { ConsistencyFrom, ConsistencyTo, SaveReceipt };
        foreach (var option in ApiClientOptions.All())
        {
            verify.Options.Add(option);
            consistency.Options.Add(option);
        }

        return new Command("audit", "A regulator's audit over the credit API (AuditService)") { verify.Handles(VerifyAsync), consistency.Handles(ConsistencyAsync) }.ShowsHelp();
    }

    private static async Task<int> VerifyAsync(CliContext context, CancellationToken cancellationToken)
    {
        var from = context.Value(VerifyFrom) ?? 0;
        var to = context.Value(VerifyTo) ?? 0;
        if (to != 0 && to < from)
        {
            throw new CliUsageException($"--to {to} is below --from {from}");
        }

        var genesis = await ApiClientOptions.GenesisAsync(context.Required(ApiClientOptions.Genesis), cancellationToken).ConfigureAwait(false);
        var (client, signer) = ApiClientOptions.Open(context, genesis, "SUPERVISION");
        using var _ = signer;
        using var __ = client;
        var invalid = new List<VerifyChainResponse>();
        VerifyChainResponse? last = null;
        try
        {
            using var call = client.Audit.VerifyChain(new VerifyChainRequest { FromHeight = from, ToHeight = to }, cancellationToken: cancellationToken);
            await context.Console.Progress().AutoClear(false).StartAsync(async progress =>
            {
                var task = progress.AddTask("verifying blocks", autoStart: true, maxValue: 1);
                await foreach (var verdict in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    task.MaxValue = Math.Max(1, verdict.BlocksTotal);
                    task.Value = verdict.BlocksChecked;
                    last = verdict;
                    if (verdict.Verdict != BlockVerdict.Valid)
                    {
                        invalid.Add(verdict);
                    }
                }
            }).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw ApiClientOptions.Refused(e);
        }

        var output = context.Output;
        if (last is null)
        {
            throw new CliUsageException("the node sent no verdict");
        }

        foreach (var verdict in invalid)
        {
            await output.WriteLineAsync($"INVALID: block {verdict.Height}: {verdict.Reason}").ConfigureAwait(false);
        }

        if (invalid.Count == 0)
        {
            await output.WriteLineAsync("VALID").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"  {last.BlocksChecked} of {last.BlocksTotal} blocks ({from}..{last.Height}), {last.TransactionsChecked} transactions checked by the node").ConfigureAwait(false);
        return invalid.Count == 0 ? ExitCodes.Success : ExitCodes.NegativeVerdict;
    }

    private static async Task<int> ConsistencyAsync(CliContext context, CancellationToken cancellationToken)
    {
        var from = context.Value(ConsistencyFrom)!.Value;
        var to = context.Value(ConsistencyTo)!.Value;
        if (to < from)
        {
            throw new CliUsageException($"--to {to} is below --from {from}");
        }

        var save = context.Value(SaveReceipt);
        if (save is not null && File.Exists(save))
        {
            throw new CliUsageException($"--save-receipt: '{save}' exists; a receipt is never written over a file");
        }

        var genesis = await ApiClientOptions.GenesisAsync(context.Required(ApiClientOptions.Genesis), cancellationToken).ConfigureAwait(false);
        var (client, signer) = ApiClientOptions.Open(context, genesis, "SUPERVISION");
        using var _ = signer;
        using var __ = client;
        var answer = await ApiClientOptions.CallAsync(() => client.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FromHeight = from, ToHeight = to }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var report = ApiClientOptions.VerifyReceipt(answer.ReceiptJson, genesis);
        if (save is not null)
        {
            await ApiClientOptions.SaveAsync("save-receipt", save, answer.ReceiptJson, cancellationToken).ConfigureAwait(false);
        }

        var output = context.Output;
        if (report.Outcome != ReceiptOutcome.Valid || report.Receipt is not ConsistencyReceipt receipt)
        {
            await output.WriteLineAsync($"INVALID: the node's receipt does not verify: {report.Check}: {report.Reason}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }

        if (receipt.FromHeader.Height != from || receipt.Header.Height != to)
        {
            await output.WriteLineAsync($"INVALID: the receipt is for blocks {receipt.FromHeader.Height} and {receipt.Header.Height}, not {from} and {to}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }

        await output.WriteLineAsync("VALID").ConfigureAwait(false);
        await output.WriteLineAsync($"  the history of block {from} ({receipt.FromHeader.HistorySize} transactions, {receipt.FromHeader.Hash}) is a prefix of block {to}'s ({receipt.Header.HistorySize} transactions, {receipt.Header.Hash}): nothing was rewritten").ConfigureAwait(false);
        await output.WriteLineAsync($"  both headers certified under the validators of {context.Required(ApiClientOptions.Genesis)} (checked offline)").ConfigureAwait(false);
        if (save is not null)
        {
            await output.WriteLineAsync($"  receipt saved to {save}").ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}

/// <summary>
/// <c>smartcity submit FILE</c>: submits a signed transaction (its canonical bytes, raw or as 0x-hex text) over the
/// credit API; with <c>--wait</c> (the default) it waits for the commit and checks the inclusion receipt offline.
/// </summary>
internal sealed class SubmitCommand : ICliCommandGroup
{
    private static readonly Argument<string> File = new("FILE") { Description = "The signed transaction: its canonical bytes (docs/domain.md), raw or as 0x-hex text" };

    private static readonly Option<bool> NoWait = new("--no-wait") { Description = "Return once the node accepted it (PENDING) instead of waiting for the commit" };

    private static readonly Option<string> SaveReceipt = new("--save-receipt") { Description = "Write the inclusion receipt to this new file (with the wait)", HelpName = "FILE" };

    public Command Create()
    {
        var submit = new Command("submit", "Submit a signed transaction over the credit API and wait for its commit: exit 0 committed (receipt checked offline) or accepted with --no-wait, 1 the receipt does not verify, 2 bad input or refused by the ledger") { File, NoWait, SaveReceipt };
        foreach (var option in ApiClientOptions.All())
        {
            submit.Options.Add(option);
        }

        return submit.Handles(SubmitAsync);
    }

    private static async Task<int> SubmitAsync(CliContext context, CancellationToken cancellationToken)
    {
        var path = context.ParseResult.GetRequiredValue(File);
        var bytes = Canonical(await CliFiles.ReadBytesAsync("FILE", path, cancellationToken).ConfigureAwait(false), path);
        var decoded = TransactionCodec.Decode(bytes);
        if (decoded.Transaction is not { } transaction)
        {
            throw new CliUsageException($"FILE '{path}': not a signed transaction: {decoded.Error}");
        }

        var wait = !context.Value(NoWait);
        var save = context.Value(SaveReceipt);
        if (save is not null && (!wait || System.IO.File.Exists(save)))
        {
            throw new CliUsageException(wait ? $"--save-receipt: '{save}' exists; a receipt is never written over a file" : "--save-receipt needs the wait for the commit (drop --no-wait)");
        }

        var genesis = await ApiClientOptions.GenesisAsync(context.Required(ApiClientOptions.Genesis), cancellationToken).ConfigureAwait(false);
        if (transaction.ChainId != genesis.ChainId)
        {
            throw new CliUsageException($"FILE '{path}': the transaction is for chain {transaction.ChainId}, the genesis is chain {genesis.ChainId}");
        }

        var (client, signer) = ApiClientOptions.Open(context, genesis, "SUBMISSION");
        using var _ = signer;
        using var __ = client;
        var answer = await ApiClientOptions.CallAsync(() => client.Credit.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(bytes), WaitForCommit = wait }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        var output = context.Output;
        if (!wait)
        {
            await output.WriteLineAsync($"{answer.Status.ToString().ToUpperInvariant()} {answer.TransactionId}").ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var report = ApiClientOptions.VerifyReceipt(answer.ReceiptJson, genesis);
        if (save is not null)
        {
            await ApiClientOptions.SaveAsync("save-receipt", save, answer.ReceiptJson, cancellationToken).ConfigureAwait(false);
        }

        if (report.Outcome != ReceiptOutcome.Valid || report.Receipt is not InclusionReceipt inclusion || !inclusion.Transaction.AsSpan().SequenceEqual(bytes))
        {
            await output.WriteLineAsync($"INVALID: the node's receipt does not prove this transaction: {report.Check}: {report.Reason}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }

        await output.WriteLineAsync($"COMMITTED {answer.TransactionId}").ConfigureAwait(false);
        await output.WriteLineAsync($"  block {answer.Height}, index {answer.IndexInBlock}; inclusion receipt checked offline against {context.Required(ApiClientOptions.Genesis)}").ConfigureAwait(false);
        if (save is not null)
        {
            await output.WriteLineAsync($"  receipt saved to {save}").ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    /// <summary>The file's bytes, or the bytes its 0x-hex text spells (whitespace around it ignored).</summary>
    private static byte[] Canonical(byte[] file, string path)
    {
        var text = System.Text.Unicode.Utf8.IsValid(file) ? System.Text.Encoding.UTF8.GetString(file).Trim() : null;
        if (text is not null && text.StartsWith("0x", StringComparison.Ordinal))
        {
            try
            {
                return Convert.FromHexString(text.AsSpan(2));
            }
            catch (FormatException)
            {
                throw new CliUsageException($"FILE '{path}': starts with 0x but is not hex");
            }
        }

        return file.Length > 0 ? file : throw new CliUsageException($"FILE '{path}' is empty");
    }
}
