using System.Numerics;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using SmartCity.Ledger.Anchoring.Evm;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Ledger.Anchoring.Contract;

/// <summary>
/// The typed service of one deployed CheckpointAnchor contract over an <see cref="EvmChain"/>: reads what it
/// anchored, and builds, prices, signs, sends and follows anchor and hand-over transactions. Every message is a
/// Nethereum typed message matching the compiled ABI; refusals come back as <see cref="ContractRefusal"/> values.
/// </summary>
public sealed class CheckpointAnchorService
{
    /// <summary>Checkpoints read per <c>checkpoints(start, limit)</c> call.</summary>
    private const int PageSize = 200;

    public CheckpointAnchorService(EvmChain chain, string contractAddress)
    {
        ArgumentNullException.ThrowIfNull(chain);
        Chain = chain;
        ContractAddress = Address.TryParse(contractAddress, out var address, out var error)
            ? address
            : throw new AnchoringConfigurationException($"contract address '{contractAddress}': {error}");
    }

    public EvmChain Chain { get; }

    public Address ContractAddress { get; }

    private string Contract => ContractAddress.ToString();

    /// <summary>
    /// Deploys a contract for the chain <paramref name="genesis"/> starts: its chain id, EIP-712 domain and
    /// validators. Returns the refusal instead when the constructor reverts.
    /// </summary>
    public static async Task<DeploymentResult> DeployAsync(EvmChain chain, GenesisDocument genesis, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(genesis);
        var validators = new ValidatorSet(genesis.Validators.Select(v => v.Address));
        var message = new CheckpointAnchorDeployment
        {
            LedgerChainId = genesis.ChainId,
            Name = genesis.Eip712Domain.Name,
            Version = genesis.Eip712Domain.Version,
            DomainChainId = genesis.Eip712Domain.ChainId,
            InitialValidators = [.. validators.Members.Select(a => a.ToString())],
            ValidatorSetHash = validators.Hash.ToArray(),
        };
        var estimate = await chain.EstimateDeploymentAsync(message, cancellationToken).ConfigureAwait(false);
        if (estimate.Refusal is { } refusal)
        {
            return new DeploymentResult(null, null, refusal);
        }

        var fees = await chain.SuggestFeesAsync(null, cancellationToken).ConfigureAwait(false)
            ?? throw new EvmSendException($"gas costs more than the configured cap of {chain.Options.MaxFeePerGasWei} wei");
        var nonce = await chain.PendingNonceAsync(cancellationToken).ConfigureAwait(false);
        var signed = chain.SignDeployment(message, GasLimit(chain, estimate.Gas), nonce, fees);
        await chain.SendAsync(signed, cancellationToken).ConfigureAwait(false);
        var mined = await chain.WaitForConfirmationAsync([signed.Hash], cancellationToken).ConfigureAwait(false)
            ?? throw new EvmUnavailableException($"deployment {signed.Hash} was not confirmed within {chain.Options.ReceiptTimeout}");
        if (!mined.Succeeded || mined.ContractAddress is null)
        {
            return new DeploymentResult(null, mined, await chain.RevertReasonAsync(mined.Hash, cancellationToken).ConfigureAwait(false));
        }

        return new DeploymentResult(Address.Parse(mined.ContractAddress), mined, null);
    }

    /// <summary>What the contract anchors: chain id, domain, validator sets.</summary>
    /// <exception cref="AnchoringConfigurationException">No CheckpointAnchor answers at the address.</exception>
    public async Task<AnchorContractConfiguration> ReadConfigurationAsync(CancellationToken cancellationToken)
    {
        var code = await Chain.CallAsync("eth_getCode", () => Chain.Web3.Eth.GetCode.SendRequestAsync(Contract), cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(code) || code is "0x" or "0x0")
        {
            throw new AnchoringConfigurationException($"there is no contract at {ContractAddress} on EVM chain {Chain.ChainId}");
        }

        try
        {
            return new AnchorContractConfiguration(
                await QueryAsync<LedgerChainIdFunction, ulong>(cancellationToken).ConfigureAwait(false),
                await QueryAsync<DomainNameFunction, string>(cancellationToken).ConfigureAwait(false),
                await QueryAsync<DomainVersionFunction, string>(cancellationToken).ConfigureAwait(false),
                await QueryAsync<DomainChainIdFunction, BigInteger>(cancellationToken).ConfigureAwait(false),
                new Hash256(await QueryAsync<DomainSeparatorFunction, byte[]>(cancellationToken).ConfigureAwait(false)),
                new Hash256(await QueryAsync<GenesisValidatorSetHashFunction, byte[]>(cancellationToken).ConfigureAwait(false)),
                new Hash256(await QueryAsync<ValidatorSetHashFunction, byte[]>(cancellationToken).ConfigureAwait(false)),
                checked((long)await QueryAsync<ValidatorSetSinceFunction, ulong>(cancellationToken).ConfigureAwait(false)),
                [.. (await QueryAsync<ValidatorsFunction, List<string>>(cancellationToken).ConfigureAwait(false)).Select(Address.Parse)]);
        }
        catch (Exception e) when (e is Nethereum.JsonRpc.Client.RpcResponseException or SmartContractRevertException or SmartContractCustomErrorRevertException or ArgumentException or FormatException)
        {
            throw new AnchoringConfigurationException($"the contract at {ContractAddress} is not a CheckpointAnchor: {e.Message}", e);
        }
    }

    /// <summary>The height of the latest checkpoint, or null when nothing is anchored yet.</summary>
    public async Task<long?> LatestHeightAsync(CancellationToken cancellationToken)
    {
        var count = await QueryAsync<CheckpointCountFunction, BigInteger>(cancellationToken).ConfigureAwait(false);
        return count.IsZero ? null : checked((long)await QueryAsync<LatestHeightFunction, ulong>(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>How many checkpoints are anchored.</summary>
    public async Task<long> CheckpointCountAsync(CancellationToken cancellationToken)
        => (long)await QueryAsync<CheckpointCountFunction, BigInteger>(cancellationToken).ConfigureAwait(false);

    /// <summary>Every checkpoint, in height order, read from the contract's storage in pages.</summary>
    public async Task<IReadOnlyList<AnchoredCheckpoint>> ReadCheckpointsAsync(CancellationToken cancellationToken)
    {
        var count = await CheckpointCountAsync(cancellationToken).ConfigureAwait(false);
        var all = new List<AnchoredCheckpoint>((int)Math.Min(count, 100_000));
        for (long start = 0; start < count; start += PageSize)
        {
            var query = new CheckpointsFunction { Start = start, Limit = PageSize };
            var page = await Chain.CallAsync("eth_call", () => Chain.Web3.Eth.GetContractQueryHandler<CheckpointsFunction>().QueryDeserializingToObjectAsync<CheckpointsOutput>(query, Contract), cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Page.Select(AnchoredCheckpoint.From));
        }

        return all;
    }

    /// <summary>The checkpoint anchored at <paramref name="height"/>, or null.</summary>
    public async Task<AnchoredCheckpoint?> CheckpointAtAsync(long height, CancellationToken cancellationToken)
    {
        try
        {
            var query = new CheckpointAtFunction { Height = checked((ulong)height) };
            var output = await Chain.CallAsync("eth_call", () => Chain.Web3.Eth.GetContractQueryHandler<CheckpointAtFunction>().QueryDeserializingToObjectAsync<CheckpointAtOutput>(query, Contract), cancellationToken).ConfigureAwait(false);
            return AnchoredCheckpoint.From(output.Checkpoint);
        }
        catch (Exception e) when (ContractRefusal.FromException(e) is { Error: "NoCheckpoint" })
        {
            return null;
        }
    }

    /// <summary>The digest validators sign for (header hash, height, round), as the contract computes it.</summary>
    public async Task<Hash256> CommitSealDigestAsync(Hash256 headerHash, long height, int round, CancellationToken cancellationToken)
    {
        var query = new CommitSealDigestFunction { HeaderHash = headerHash.ToArray(), Height = checked((ulong)height), Round = checked((uint)round) };
        var digest = await Chain.CallAsync("eth_call", () => Chain.Web3.Eth.GetContractQueryHandler<CommitSealDigestFunction>().QueryAsync<byte[]>(Contract, query), cancellationToken).ConfigureAwait(false);
        return new Hash256(digest);
    }

    /// <summary>Would the contract accept this checkpoint now? Null if so, else its refusal (an <c>eth_estimateGas</c>, nothing sent).</summary>
    public async Task<ContractRefusal?> CheckAnchorAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
        => (await Chain.EstimateAsync(Contract, AnchorMessage(header, certificate), cancellationToken).ConfigureAwait(false)).Refusal;

    /// <summary>Would the contract accept this hand-over now? Null if so, else its refusal (nothing sent).</summary>
    public async Task<ContractRefusal?> CheckHandOverAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> certificate, ValidatorSet newValidators, ReadOnlyMemory<byte> validatorSetProof, CancellationToken cancellationToken)
        => (await Chain.EstimateAsync(Contract, HandOverMessage(header, certificate, newValidators, validatorSetProof), cancellationToken).ConfigureAwait(false)).Refusal;

    /// <summary>Anchors a certified header and waits for the confirmations.</summary>
    public Task<SubmissionResult> AnchorAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
        => SubmitAsync(AnchorMessage(header, certificate), cancellationToken);

    /// <summary>
    /// Checks, prices, signs and sends an anchor without waiting for it: the transaction's hash comes back at once (so a
    /// caller can persist it before waiting, and after a restart follow it instead of sending a second one), or the
    /// contract's refusal / why nothing was sent. Follow it with <see cref="FollowAsync"/>.
    /// </summary>
    public async Task<SentAnchor> SendAnchorAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(AnchorMessage(header, certificate), null, null, cancellationToken).ConfigureAwait(false);
        if (prepared.Transaction is not { } signed)
        {
            return new SentAnchor(null, 0, prepared.Refusal, prepared.Problem);
        }

        await Chain.SendAsync(signed, cancellationToken).ConfigureAwait(false);
        return new SentAnchor(signed.Hash, signed.Nonce, null, null);
    }

    /// <summary>
    /// Waits for a sent transaction to be mined and buried under the confirmation depth (up to the receipt timeout):
    /// confirmed, refused when it reverted (the reason replayed from its block: a custom error, or out of gas), or pending.
    /// </summary>
    public async Task<SubmissionResult> FollowAsync(string transactionHash, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(transactionHash);
        var mined = await Chain.WaitForConfirmationAsync([transactionHash], cancellationToken).ConfigureAwait(false);
        if (mined is null)
        {
            return SubmissionResult.Pending(transactionHash);
        }

        return mined.Succeeded
            ? SubmissionResult.Confirmed(mined)
            : SubmissionResult.Refused(await Chain.RevertReasonAsync(mined.Hash, cancellationToken).ConfigureAwait(false), mined);
    }

    /// <summary>Whether the EVM node still knows a transaction (pending in its pool, or mined).</summary>
    public Task<bool> IsTransactionKnownAsync(string transactionHash, CancellationToken cancellationToken)
        => Chain.IsKnownAsync(transactionHash, cancellationToken);

    /// <summary>Hands the contract over to <paramref name="newValidators"/> and waits for the confirmations.</summary>
    public Task<SubmissionResult> HandOverAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> certificate, ValidatorSet newValidators, ReadOnlyMemory<byte> validatorSetProof, CancellationToken cancellationToken)
        => SubmitAsync(HandOverMessage(header, certificate, newValidators, validatorSetProof), cancellationToken);

    internal static AnchorFunction AnchorMessage(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> certificate)
        => new() { Header = header.ToArray(), Certificate = certificate.ToArray() };

    internal static HandOverFunction HandOverMessage(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> certificate, ValidatorSet newValidators, ReadOnlyMemory<byte> validatorSetProof)
    {
        ArgumentNullException.ThrowIfNull(newValidators);
        return new()
        {
            Header = header.ToArray(),
            Certificate = certificate.ToArray(),
            NewValidators = [.. newValidators.Members.Select(a => a.ToString())],
            ValidatorSetProof = validatorSetProof.ToArray(),
        };
    }

    /// <summary>Estimates, prices, signs with the pending nonce and sends; nothing is sent when the contract refuses.</summary>
    internal async Task<PreparedSubmission> PrepareAsync<TFunction>(TFunction message, BigInteger? nonce, EvmFees? replacing, CancellationToken cancellationToken)
        where TFunction : FunctionMessage, new()
    {
        var estimate = await Chain.EstimateAsync(Contract, message, cancellationToken).ConfigureAwait(false);
        if (estimate.Refusal is { } refusal)
        {
            return new PreparedSubmission(null, refusal, null);
        }

        var fees = await Chain.SuggestFeesAsync(replacing, cancellationToken).ConfigureAwait(false);
        if (fees is null)
        {
            return new PreparedSubmission(null, null, $"gas costs more than the configured cap of {Chain.Options.MaxFeePerGasWei} wei per gas");
        }

        var useNonce = nonce ?? await Chain.PendingNonceAsync(cancellationToken).ConfigureAwait(false);
        var signed = Chain.Sign(Contract, message, GasLimit(Chain, estimate.Gas), useNonce, fees.Value);
        return new PreparedSubmission(signed, null, null);
    }

    private async Task<SubmissionResult> SubmitAsync<TFunction>(TFunction message, CancellationToken cancellationToken)
        where TFunction : FunctionMessage, new()
    {
        var prepared = await PrepareAsync(message, null, null, cancellationToken).ConfigureAwait(false);
        if (prepared.Transaction is not { } signed)
        {
            return prepared.Refusal is { } refusal ? SubmissionResult.Refused(refusal, null) : SubmissionResult.NotSent(prepared.Problem!);
        }

        await Chain.SendAsync(signed, cancellationToken).ConfigureAwait(false);
        var mined = await Chain.WaitForConfirmationAsync([signed.Hash], cancellationToken).ConfigureAwait(false);
        if (mined is null)
        {
            return SubmissionResult.Pending(signed.Hash);
        }

        return mined.Succeeded
            ? SubmissionResult.Confirmed(mined)
            : SubmissionResult.Refused(await Chain.RevertReasonAsync(mined.Hash, cancellationToken).ConfigureAwait(false), mined);
    }

    private async Task<T> QueryAsync<TFunction, T>(CancellationToken cancellationToken)
        where TFunction : FunctionMessage, new()
        => await Chain.CallAsync("eth_call", () => Chain.Web3.Eth.GetContractQueryHandler<TFunction>().QueryAsync<T>(Contract, new TFunction()), cancellationToken).ConfigureAwait(false);

    private static BigInteger GasLimit(EvmChain chain, BigInteger estimate)
        => new((double)estimate * chain.Options.GasLimitMargin + 1);
}

/// <summary>The contract was deployed at <see cref="Address"/>, or refused (<see cref="Refusal"/>).</summary>
public sealed record DeploymentResult(Address? Address, MinedTransaction? Transaction, ContractRefusal? Refusal);

/// <summary>An anchor sent (<see cref="TransactionHash"/>, <see cref="Nonce"/>), or not: the contract's refusal at estimation, or another problem (fees).</summary>
public sealed record SentAnchor(string? TransactionHash, BigInteger Nonce, ContractRefusal? Refusal, string? Problem);

/// <summary>A transaction signed and ready to send, or why not: the contract's refusal, or another problem (fees).</summary>
internal sealed record PreparedSubmission(SignedEvmTransaction? Transaction, ContractRefusal? Refusal, string? Problem);

/// <summary>How a submission ended.</summary>
public enum SubmissionStatus
{
    /// <summary>Mined, succeeded, and under the confirmation depth.</summary>
    Confirmed = 0,

    /// <summary>The contract refused it: at estimation (nothing sent) or when mined (reverted, gas spent).</summary>
    Refused,

    /// <summary>Sent, but not confirmed within the receipt timeout.</summary>
    Pending,

    /// <summary>Not sent (e.g. gas above the fee cap).</summary>
    NotSent,
}

/// <summary>The outcome of sending one contract call.</summary>
public sealed record SubmissionResult(SubmissionStatus Status, MinedTransaction? Transaction, string? TransactionHash, ContractRefusal? Refusal, string? Problem)
{
    public static SubmissionResult Confirmed(MinedTransaction mined) => new(SubmissionStatus.Confirmed, mined, mined.Hash, null, null);

    public static SubmissionResult Refused(ContractRefusal refusal, MinedTransaction? mined) => new(SubmissionStatus.Refused, mined, mined?.Hash, refusal, null);

    public static SubmissionResult Pending(string hash) => new(SubmissionStatus.Pending, null, hash, null, null);

    public static SubmissionResult NotSent(string problem) => new(SubmissionStatus.NotSent, null, null, null, problem);
}
