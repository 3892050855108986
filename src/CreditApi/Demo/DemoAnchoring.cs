using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Anchoring.Evm;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Anchor;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Storage;

namespace SmartCity.CreditApi.Demo;

/// <summary>
/// Where the tour anchors: a local EVM node (scripts/demo.sh starts ganache on a free loopback port) and a funded
/// development account's clear-text key file; or why there is none (<see cref="Unavailable"/>).
/// </summary>
public sealed record DemoAnchorSettings(Uri? RpcUrl, string? KeyFile, string? Unavailable);

/// <summary>
/// The tour's anchoring step: deploys a CheckpointAnchor for the genesis, runs the AnchorJob's logic once over a
/// validator's store (it sends the certified head and its certificate; the contract checks the seals with ecrecover),
/// and checks the store against every checkpoint as <c>smartcity anchor verify</c> does. Anchoring is eth-only; without
/// an EVM node the step says it is skipped and why, and the tour goes on.
/// </summary>
internal static class DemoAnchoring
{
    public static async Task RunAsync(GenesisDocument genesis, ILedgerStore store, string storeDirectory, DemoAnchorSettings? settings, string outDir, string smartcity, TextWriter o, CancellationToken cancellationToken)
    {
        await o.WriteLineAsync("== 7. A checkpoint is anchored on an EVM chain, where a contract checks the validators' seals itself").ConfigureAwait(false);
        if (genesis.Crypto.Suite != CryptoSuiteId.Eth)
        {
            await o.WriteLineAsync($"   skipped anchoring: anchoring is eth-only (the contract checks secp256k1 seals with ecrecover and Keccak-256 hashes; this chain is {genesis.Crypto.Suite.ToName()}, SM2/SM3), docs/anchoring.md").ConfigureAwait(false);
            return;
        }

        if (settings is not { RpcUrl: { } rpc, KeyFile: { } keyFile })
        {
            await o.WriteLineAsync($"   skipped anchoring: {settings?.Unavailable ?? "no EVM node was given (scripts/demo.sh starts a local ganache; or pass --evm-rpc URL --evm-key FILE)"}").ConfigureAwait(false);
            return;
        }

        KeySigner submitter;
        try
        {
            // ganache's funded development account (a public test key): clear text by consent, as the tour is development only.
            submitter = KeySource.OpenSigner(new KeySourceOptions { Plaintext = new PlaintextKeyOptions { Path = keyFile }, InsecurePlaintext = true });
        }
        catch (KeySourceException e)
        {
            await o.WriteLineAsync($"   skipped anchoring: the EVM account's key {keyFile} cannot be opened: {e.Message}").ConfigureAwait(false);
            return;
        }

        using (submitter)
        {
            try
            {
                await AnchorAsync(genesis, store, storeDirectory, rpc, submitter, outDir, smartcity, o, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is EvmUnavailableException or EvmSendException or AnchoringConfigurationException)
            {
                await o.WriteLineAsync($"   skipped anchoring: the EVM node at {rpc} cannot be used: {e.Message}").ConfigureAwait(false);
            }
        }
    }

    private static async Task AnchorAsync(GenesisDocument genesis, ILedgerStore store, string storeDirectory, Uri rpc, KeySigner submitter, string outDir, string smartcity, TextWriter o, CancellationToken cancellationToken)
    {
        var evm = new EvmOptions { RpcUrl = rpc, MaxRetries = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(200), PollInterval = TimeSpan.FromMilliseconds(100), ReceiptTimeout = TimeSpan.FromSeconds(30) };
        using var chain = await EvmChain.ConnectAsync(evm, submitter, TimeProvider.System, NullLogger.Instance, cancellationToken).ConfigureAwait(false);
        var deployed = await CheckpointAnchorService.DeployAsync(chain, genesis, cancellationToken).ConfigureAwait(false);
        if (deployed.Address is not { } address)
        {
            await o.WriteLineAsync($"   skipped anchoring: the contract's deployment was refused: {deployed.Refusal}").ConfigureAwait(false);
            return;
        }

        var invariant = CultureInfo.InvariantCulture;
        await o.WriteLineAsync(string.Create(invariant, $"   CheckpointAnchor deployed at {address} on EVM chain {chain.ChainId} ({rpc}), {deployed.Transaction!.GasUsed} gas: it holds the chain id, the EIP-712 domain and the {genesis.Validators.Count} validators, and trusts no submitter")).ConfigureAwait(false);

        // One run of the node's AnchorJob (jobs.anchor), over this validator's store.
        var options = new AnchorJobOptions { RpcUrl = rpc.ToString(), Contract = address.ToString(), EveryBlocks = 1, Confirmations = 1, ReceiptTimeout = evm.ReceiptTimeout, MaxRetries = evm.MaxRetries };
        using var metrics = new JobMetrics();
        var anchorer = new Anchorer(options, submitter, new FileAnchorRecordStore(Path.Combine(outDir, "anchoring")), genesis.ChainId, metrics, NullLogger.Instance, TimeProvider.System);
        var run = await anchorer.RunAsync(store, cancellationToken).ConfigureAwait(false);
        await o.WriteLineAsync($"   AnchorJob: {run.Summary}").ConfigureAwait(false);
        if (run.Status != AnchorRunStatus.Anchored)
        {
            return;
        }

        var contract = new CheckpointAnchorService(chain, address.ToString());
        var checkpoints = await contract.ReadCheckpointsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var c in checkpoints)
        {
            await o.WriteLineAsync(string.Create(invariant, $"   on-chain checkpoint {c.Height}: header {c.HeaderHash}, history size {c.HistorySize} root {c.HistoryRoot}, state root {c.StateRoot}")).ConfigureAwait(false);
        }

        // What a regulator runs with an Ethereum endpoint and the node's store (`smartcity anchor verify`).
        var verdict = await AnchorVerifier.VerifyAsync(checkpoints, store, cancellationToken).ConfigureAwait(false);
        await o.WriteLineAsync(verdict.Agrees
            ? string.Create(invariant, $"   anchor verify: CONSISTENT: {verdict.Checkpoints} anchors of contract {address} agree with the ledger (head {verdict.Head}): header hashes at the anchored heights, and each anchored history is a prefix of the head's (consistency proofs)")
            : string.Create(invariant, $"   anchor verify: DISAGREES at height {verdict.FirstDisagreement}: {verdict.Reason}")).ConfigureAwait(false);
        await o.WriteLineAsync($"   (while that EVM node runs: {smartcity} anchor verify --rpc {rpc} --contract {address} --store {storeDirectory})").ConfigureAwait(false);
    }
}
