using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Anchoring.Evm;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// `smartcity anchor deploy|submit|show|verify`: the CheckpointAnchor contract on an EVM chain (docs/anchoring.md). Exit codes:
/// 0 done, 1 not anchored (the contract refused, with its decoded reason on stdout; or not sent / not confirmed in
/// time), 2 bad input (one line on stderr: options, files, an endpoint that does not answer, no contract at the address).
/// </summary>
internal sealed class AnchorCommands : ICliCommandGroup
{
    private static readonly Option<string> Rpc = new("--rpc") { Description = "The EVM chain's JSON-RPC endpoint (http or https)", HelpName = "URL", Required = true };
    private static readonly Option<ulong?> EvmChainId = new("--evm-chain-id") { Description = "Refuse to sign unless the endpoint's eth_chainId is this", HelpName = "N" };
    private static readonly Option<int> Confirmations = new("--confirmations") { Description = "Blocks that must hold the transaction (its own included)", HelpName = "N", DefaultValueFactory = _ => 1 };
    private static readonly Option<string> Contract = new("--contract") { Description = "The CheckpointAnchor contract's address", HelpName = "ADDRESS", Required = true };
    private static readonly Option<string> Genesis = new("--genesis") { Description = "The ledger's genesis file: chain id, EIP-712 domain, validators", HelpName = "FILE", Required = true };
    private static readonly Option<long?> Height = new("--height") { Description = "The certified block to anchor (default: the store's head)", HelpName = "N" };
    private static readonly Option<string> Key = new("--key") { Description = "The paying account's keystore (or, with --insecure-plaintext, a clear-text key)", HelpName = "FILE", Required = true };
    private static readonly Option<string> PasswordFile = new("--password-file") { Description = "The keystore password: first line of this file (mode 0600)", HelpName = "FILE" };
    private static readonly Option<string> PasswordEnv = new("--password-env") { Description = "The keystore password: this environment variable", HelpName = "VAR" };
    private static readonly Option<string> StoreToVerify = new("--store") { Description = "The node's embedded store directory (read only)", HelpName = "DIR" };
    private static readonly Option<string> PostgresToVerify = new("--postgres") { Description = "The node's PostgreSQL connection string (read only)", HelpName = "CS" };
    private static readonly Option<string> Schema = new("--schema") { Description = "The node's PostgreSQL schema", HelpName = "NAME", DefaultValueFactory = _ => "ledger" };
    private static readonly Option<bool> InsecurePlaintext = new("--insecure-plaintext") { Description = "Accept a CLEAR-TEXT key file (development only)" };

    public Command Create() => new Command("anchor", "Checkpoints of the ledger on an EVM chain, accepted only with a quorum of the validators' seals")
    {
        new Command("deploy", "Deploy a CheckpointAnchor for the chain a genesis file starts; print its address (exit 1 if the constructor refuses)")
        {
            Rpc, EvmChainId, Confirmations, Genesis, Key, PasswordFile, PasswordEnv, InsecurePlaintext,
        }.Handles(DeployAsync),
        new Command("submit", "Anchor a certified block of a store (embedded or PostgreSQL): exit 0 anchored, 1 refused by the contract (reason on stdout), 2 bad input")
        {
            Rpc, EvmChainId, Confirmations, Contract, StoreToVerify, PostgresToVerify, Schema, Height, Key, PasswordFile, PasswordEnv, InsecurePlaintext,
        }.Handles(SubmitAsync),
        new Command("show", "Print what a CheckpointAnchor holds: chain, domain, validator set and every checkpoint")
        {
            Rpc, EvmChainId, Contract,
        }.Handles(ShowAsync),
        new Command("verify", "Check a ledger store against every checkpoint of a CheckpointAnchor: exit 0 CONSISTENT, 1 DISAGREES at the first height, 2 bad input")
        {
            Rpc, EvmChainId, Contract, StoreToVerify, PostgresToVerify, Schema,
        }.Handles(VerifyAsync),
    }.ShowsHelp();

    private static async Task<int> DeployAsync(CliContext context, CancellationToken cancellationToken)
    {
        var genesisPath = context.Required(Genesis);
        var genesis = GenesisLoader.Load(await CliFiles.ReadTextAsync("genesis", genesisPath, cancellationToken).ConfigureAwait(false));
        if (!genesis.IsValid)
        {
            throw new CliUsageException($"genesis {genesisPath}: {genesis.Errors[0]}");
        }

        using var signer = KeysCommands.OpenSigner(context, context.Required(Key), PasswordFile, PasswordEnv, InsecurePlaintext);
        using var chain = await ConnectAsync(context, signer, context.Value(Confirmations), cancellationToken).ConfigureAwait(false);
        var deployed = await Evm(() => CheckpointAnchorService.DeployAsync(chain, genesis.Document!, cancellationToken)).ConfigureAwait(false);
        if (deployed.Address is not { } address)
        {
            await context.Output.WriteLineAsync($"REFUSED: {deployed.Refusal}").ConfigureAwait(false);
            return ExitCodes.NegativeVerdict;
        }

        await context.Output.WriteLineAsync(address.ToString()).ConfigureAwait(false);
        await context.Error.WriteLineAsync($"deployed on EVM chain {chain.ChainId} in block {deployed.Transaction!.BlockNumber} ({deployed.Transaction.GasUsed} gas, transaction {deployed.Transaction.Hash})").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> SubmitAsync(CliContext context, CancellationToken cancellationToken)
    {
        var header = await ReadCertifiedBlockAsync(context, cancellationToken).ConfigureAwait(false);
        using var signer = KeysCommands.OpenSigner(context, context.Required(Key), PasswordFile, PasswordEnv, InsecurePlaintext);
        using var chain = await ConnectAsync(context, signer, context.Value(Confirmations), cancellationToken).ConfigureAwait(false);
        var contract = await OpenContractAsync(context, chain, cancellationToken).ConfigureAwait(false);
        var result = await Evm(() => contract.AnchorAsync(header.Header, header.Certificate, cancellationToken)).ConfigureAwait(false);
        var output = context.Output;
        switch (result.Status)
        {
            case SubmissionStatus.Confirmed:
                var mined = result.Transaction!;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ANCHORED: height {header.Height} header {header.BlockHash} in EVM block {mined.BlockNumber}, transaction {mined.Hash}, {mined.GasUsed} gas")).ConfigureAwait(false);
                return ExitCodes.Success;
            case SubmissionStatus.Refused:
                await output.WriteLineAsync($"REFUSED: {result.Refusal}").ConfigureAwait(false);
                return ExitCodes.NegativeVerdict;
            case SubmissionStatus.Pending:
                await output.WriteLineAsync($"PENDING: transaction {result.TransactionHash} was sent but not confirmed within {chain.Options.ReceiptTimeout}").ConfigureAwait(false);
                return ExitCodes.NegativeVerdict;
            default:
                await output.WriteLineAsync($"NOT SENT: {result.Problem}").ConfigureAwait(false);
                return ExitCodes.NegativeVerdict;
        }
    }

    private static async Task<int> ShowAsync(CliContext context, CancellationToken cancellationToken)
    {
        using var chain = await ConnectAsync(context, null, confirmations: 1, cancellationToken).ConfigureAwait(false);
        var contract = await OpenContractAsync(context, chain, cancellationToken).ConfigureAwait(false);
        var config = await Evm(() => contract.ReadConfigurationAsync(cancellationToken)).ConfigureAwait(false);
        var checkpoints = await Evm(() => contract.ReadCheckpointsAsync(cancellationToken)).ConfigureAwait(false);
        var output = context.Output;
        var invariant = CultureInfo.InvariantCulture;
        await output.WriteLineAsync($"contract          {contract.ContractAddress} on EVM chain {chain.ChainId}").ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(invariant, $"ledger chain id   {config.LedgerChainId}")).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(invariant, $"EIP-712 domain    {config.DomainName} / {config.DomainVersion} / {config.DomainChainId} (separator {config.DomainSeparator})")).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(invariant, $"validator set     {config.ValidatorSetHash} since height {config.ValidatorSetSince}: {string.Join(", ", config.Validators)}")).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(invariant, $"checkpoints       {checkpoints.Count}")).ConfigureAwait(false);
        foreach (var c in checkpoints)
        {
            await output.WriteLineAsync(string.Create(invariant, $"  height {c.Height} header {c.HeaderHash} history {c.HistorySize} root {c.HistoryRoot} state {c.StateRoot} time {c.BlockTime:yyyy-MM-ddTHH:mm:ss.fffZ} EVM block {c.EvmBlockNumber}")).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    private static async Task<int> VerifyAsync(CliContext context, CancellationToken cancellationToken)
    {
        CheckStoreOptions(context);
        using var chain = await ConnectAsync(context, null, confirmations: 1, cancellationToken).ConfigureAwait(false);
        var contract = await OpenContractAsync(context, chain, cancellationToken).ConfigureAwait(false);
        var checkpoints = await Evm(() => contract.ReadCheckpointsAsync(cancellationToken)).ConfigureAwait(false);
        var store = await OpenStoreAsync(context, cancellationToken).ConfigureAwait(false);

        AnchorVerification verdict;
        await using (store.ConfigureAwait(false))
        {
            try
            {
                verdict = await AnchorVerifier.VerifyAsync(checkpoints, store, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreCorruptedException e)
            {
                verdict = new AnchorVerification(checkpoints.Count, -1, checkpoints.Count > 0 ? checkpoints.Min(c => c.Height) : 0, $"the store cannot be read: {e.Message}");
            }
        }

        var invariant = CultureInfo.InvariantCulture;
        if (verdict.Agrees)
        {
            await context.Output.WriteLineAsync(string.Create(invariant, $"CONSISTENT: {verdict.Checkpoints} anchors of contract {contract.ContractAddress} agree with the ledger (head {verdict.Head}): header hashes at the anchored heights, and each anchored history is a prefix of the head's (consistency proofs)")).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        await context.Output.WriteLineAsync(string.Create(invariant, $"DISAGREES at height {verdict.FirstDisagreement}: {verdict.Reason}")).ConfigureAwait(false);
        return ExitCodes.NegativeVerdict;
    }

    /// <summary>Exactly one of <c>--store DIR</c> and <c>--postgres CS</c>, the directory existing.</summary>
    private static void CheckStoreOptions(CliContext context)
    {
        var (directory, postgres) = (context.Value(StoreToVerify), context.Value(PostgresToVerify));
        if ((directory is null) == (postgres is null))
        {
            throw new CliUsageException("give exactly one of --store DIR and --postgres CS");
        }

        if (directory is not null && !Directory.Exists(directory))
        {
            throw new CliUsageException($"--store: '{directory}' is not a directory");
        }
    }

    /// <summary>
    /// Opens the store of <c>--store DIR</c> (the embedded store, without writing a snapshot) or <c>--postgres CS</c>
    /// with <c>--schema</c> (never migrated: a schema this build does not know is refused, not changed).
    /// </summary>
    private static async Task<ILedgerStore> OpenStoreAsync(CliContext context, CancellationToken cancellationToken)
    {
        var (directory, postgres) = (context.Value(StoreToVerify), context.Value(PostgresToVerify));
        try
        {
            return directory is not null
                ? await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory, SnapshotOnClose = false }, cancellationToken).ConfigureAwait(false)
                : await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = postgres!, Schema = context.Required(Schema), MigrateOnOpen = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or ArgumentException)
        {
            throw new CliUsageException($"{(directory is not null ? "--store " + directory : "--postgres")}: {e.Message}");
        }
    }

    /// <summary>The header and certificate of the block <c>--height</c> (default: the head) in the store of <c>--store</c> or <c>--postgres</c>.</summary>
    private static async Task<StoredBlockHeader> ReadCertifiedBlockAsync(CliContext context, CancellationToken cancellationToken)
    {
        CheckStoreOptions(context);
        var store = await OpenStoreAsync(context, cancellationToken).ConfigureAwait(false);
        var name = context.Value(StoreToVerify) is { } directory ? $"--store {directory}" : "--postgres";
        await using (store.ConfigureAwait(false))
        {
            var head = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new CliUsageException($"{name}: the store is empty");
            var height = context.Value(Height) ?? head.Height;
            if (height < 1 || height > head.Height)
            {
                throw new CliUsageException($"--height: {height} is not a certified block of the store (1 to {head.Height}; block 0, the genesis, has no certificate)");
            }

            var header = await store.GetHeaderAsync(height, cancellationToken).ConfigureAwait(false)
                ?? throw new CliUsageException($"--height: the store has no block {height}");
            return header;
        }
    }

    private static async Task<EvmChain> ConnectAsync(CliContext context, ISigner? signer, int confirmations, CancellationToken cancellationToken)
    {
        var rpc = context.Required(Rpc);
        if (!Uri.TryCreate(rpc, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"--rpc: '{rpc}' is not an http(s) URL");
        }

        if (confirmations < 1)
        {
            throw new CliUsageException($"--confirmations: {confirmations} is below 1");
        }

        var options = new EvmOptions { RpcUrl = url, ExpectedChainId = context.Value(EvmChainId), ConfirmationDepth = confirmations, MaxRetries = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(200) };
        return await Evm(() => EvmChain.ConnectAsync(options, signer, TimeProvider.System, NullLogger.Instance, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The contract at <c>--contract</c>, checked to be a CheckpointAnchor.</summary>
    private static async Task<CheckpointAnchorService> OpenContractAsync(CliContext context, EvmChain chain, CancellationToken cancellationToken)
    {
        var text = context.Required(Contract);
        if (!Address.TryParse(text, out _, out var error))
        {
            throw new CliUsageException($"--contract: '{text}' is not an address: {error}");
        }

        var contract = new CheckpointAnchorService(chain, text);
        await Evm(() => contract.ReadConfigurationAsync(cancellationToken)).ConfigureAwait(false);
        return contract;
    }

    /// <summary>Runs an EVM call; an endpoint that does not answer or a wrong chain or contract is bad input (exit 2).</summary>
    private static async Task<T> Evm<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (EvmUnavailableException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (AnchoringConfigurationException e)
        {
            throw new CliUsageException(e.Message);
        }
    }
}
