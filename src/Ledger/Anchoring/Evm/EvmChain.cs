using System.Numerics;
using Microsoft.Extensions.Logging;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.JsonRpc.Client;
using Nethereum.RLP;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.RPC.Fee1559Suggestions;
using Nethereum.Util;
using Nethereum.Web3;
using Polly;
using Polly.Retry;
using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Anchoring.Evm;

/// <summary>
/// One EVM chain reached over JSON-RPC with Nethereum.Web3, optionally with the account that pays for transactions.
/// Every call goes through one retry pipeline (Polly: exponential back-off with jitter on failures in transit, never
/// on an answer); transactions are estimated, priced (EIP-1559 or legacy, capped), built with an explicit nonce, signed
/// through the submitter's <see cref="ISigner"/> (an in-memory key, a keystore or a PKCS#11 token: the key never
/// reaches this class), sent raw, and followed to a receipt buried under the configured confirmation depth.
/// </summary>
public sealed class EvmChain : IDisposable
{
    private readonly HttpClient _http;
    private readonly ResiliencePipeline _retry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ISigner? _signer;

    private EvmChain(EvmOptions options, HttpClient http, IClient client, Web3 web3, BigInteger chainId, bool eip1559, ISigner? signer, ResiliencePipeline retry, TimeProvider time, ILogger logger)
    {
        Options = options;
        _http = http;
        Client = client;
        Web3 = web3;
        ChainId = chainId;
        UsesEip1559 = eip1559;
        _signer = signer;
        Submitter = signer?.Address;
        _retry = retry;
        _time = time;
        _logger = logger;
    }

    public EvmOptions Options { get; }

    /// <summary>The chain's id (<c>eth_chainId</c>), which every signed transaction carries (EIP-155).</summary>
    public BigInteger ChainId { get; }

    /// <summary>Whether transactions are priced with EIP-1559 fees (the chain has a base fee) or a legacy gas price.</summary>
    public bool UsesEip1559 { get; }

    /// <summary>The account that signs and pays, or null for a read-only connection.</summary>
    public Address? Submitter { get; }

    internal Web3 Web3 { get; }

    internal IClient Client { get; }

    internal TimeProvider Time => _time;

    /// <summary>
    /// Connects to <see cref="EvmOptions.RpcUrl"/>: reads the chain id (checked against
    /// <see cref="EvmOptions.ExpectedChainId"/>) and whether the chain has a base fee.
    /// </summary>
    /// <param name="options">The endpoint and transaction settings.</param>
    /// <param name="submitter">Signs for the paying account (not disposed here), or null for a read-only connection.</param>
    /// <param name="time">The clock of polls and back-off delays.</param>
    /// <param name="logger">Where connection and retry events go.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <exception cref="EvmUnavailableException">The endpoint did not answer after the retries.</exception>
    /// <exception cref="AnchoringConfigurationException">The chain is not the one configured, or lacks EIP-1559 when it was required.</exception>
    public static async Task<EvmChain> ConnectAsync(EvmOptions options, ISigner? submitter, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();

        var http = new HttpClient { BaseAddress = options.RpcUrl };
        try
        {
            var client = new Nethereum.JsonRpc.Client.RpcClient(options.RpcUrl, http);
            var retry = BuildRetry(options, time, logger);
            var reader = new Web3(client);
            var chainId = await Call(retry, options.RpcUrl, "eth_chainId", () => reader.Eth.ChainId.SendRequestAsync(), cancellationToken).ConfigureAwait(false);
            if (options.ExpectedChainId is { } expected && chainId.Value != expected)
            {
                throw new AnchoringConfigurationException($"{options.RpcUrl} is EVM chain {chainId.Value}, not the configured {expected}");
            }

            var latest = await Call(retry, options.RpcUrl, "eth_getBlockByNumber", () => reader.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest()), cancellationToken).ConfigureAwait(false);
            var hasBaseFee = latest?.BaseFeePerGas is not null;
            var eip1559 = options.Gas switch
            {
                GasPricing.Legacy => false,
                GasPricing.Eip1559 when !hasBaseFee => throw new AnchoringConfigurationException($"EVM chain {chainId.Value} has no base fee, so it takes no EIP-1559 transactions (set Gas to Auto or Legacy)"),
                GasPricing.Eip1559 => true,
                _ => hasBaseFee,
            };

            AnchoringLog.Connected(logger, options.RpcUrl, chainId.Value, eip1559 ? "EIP-1559" : "legacy", submitter?.Address.ToString() ?? "none (read-only)");
            return new EvmChain(options, http, client, reader, chainId.Value, eip1559, submitter, retry, time, logger);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Runs one JSON-RPC call through the retry pipeline.</summary>
    /// <exception cref="EvmUnavailableException">It still failed in transit after the retries.</exception>
    internal Task<T> CallAsync<T>(string method, Func<Task<T>> call, CancellationToken cancellationToken)
        => Call(_retry, Options.RpcUrl, method, call, cancellationToken);

    /// <summary>The number of the latest block.</summary>
    public async Task<long> BlockNumberAsync(CancellationToken cancellationToken)
        => (long)(await CallAsync("eth_blockNumber", () => Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync(), cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>The submitter's next nonce counting its pending transactions.</summary>
    internal async Task<BigInteger> PendingNonceAsync(CancellationToken cancellationToken)
    {
        var submitter = RequireSubmitter();
        var count = await CallAsync("eth_getTransactionCount", () => Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(submitter.ToString(), BlockParameter.CreatePending()), cancellationToken).ConfigureAwait(false);
        return count.Value;
    }

    /// <summary>
    /// Fees for a transaction: EIP-1559 (max fee = 2 × base fee + tip, Nethereum's simple strategy) or the node's gas
    /// price; a replacement pays at least 12.5 % more than <paramref name="replacing"/> (nodes require 10 %). Null when
    /// the price is above <see cref="EvmOptions.MaxFeePerGasWei"/>.
    /// </summary>
    internal async Task<EvmFees?> SuggestFeesAsync(EvmFees? replacing, CancellationToken cancellationToken)
    {
        var cap = Options.MaxFeePerGasWei;
        if (UsesEip1559)
        {
            var suggestion = await CallAsync("eth_getBlockByNumber", () => new SimpleFeeSuggestionStrategy(Client).SuggestFeeAsync(Options.MaxPriorityFeePerGasWei), cancellationToken).ConfigureAwait(false);
            var baseFee = suggestion.BaseFee ?? 0;
            var maxFee = suggestion.MaxFeePerGas ?? 0;
            var tip = suggestion.MaxPriorityFeePerGas ?? Options.MaxPriorityFeePerGasWei;
            if (replacing is { } old)
            {
                maxFee = BigInteger.Max(maxFee, Bump(old.MaxFeePerGas));
                tip = BigInteger.Max(tip, Bump(old.MaxPriorityFeePerGas));
            }

            if (cap is { } limit)
            {
                if (baseFee + (replacing is null ? 0 : Bump(replacing.Value.MaxPriorityFeePerGas)) > limit)
                {
                    return null;
                }

                maxFee = BigInteger.Min(maxFee, limit);
            }

            return EvmFees.Eip1559(maxFee, BigInteger.Min(tip, maxFee));
        }

        var price = (await CallAsync("eth_gasPrice", () => Web3.Eth.GasPrice.SendRequestAsync(), cancellationToken).ConfigureAwait(false)).Value;
        if (replacing is { } previous)
        {
            price = BigInteger.Max(price, Bump(previous.GasPrice));
        }

        return cap is { } most && price > most ? null : EvmFees.Legacy(price);
    }

    /// <summary>Estimates the gas of a contract call as the submitter; a revert comes back as the contract's refusal.</summary>
    internal async Task<GasEstimate> EstimateAsync<TFunction>(string contract, TFunction message, CancellationToken cancellationToken)
        where TFunction : FunctionMessage, new()
    {
        message.FromAddress = RequireSubmitter().ToString();
        try
        {
            var gas = await CallAsync("eth_estimateGas", () => Web3.Eth.GetContractTransactionHandler<TFunction>().EstimateGasAsync(contract, message), cancellationToken).ConfigureAwait(false);
            return new GasEstimate(gas.Value, null);
        }
        catch (Exception e) when (ContractRefusal.FromException(e) is { } refusal)
        {
            return new GasEstimate(0, refusal);
        }
    }

    /// <summary>Estimates a deployment's gas; a constructor revert comes back as the contract's refusal.</summary>
    internal async Task<GasEstimate> EstimateDeploymentAsync<TDeployment>(TDeployment message, CancellationToken cancellationToken)
        where TDeployment : ContractDeploymentMessage, new()
    {
        message.FromAddress = RequireSubmitter().ToString();
        try
        {
            var gas = await CallAsync("eth_estimateGas", () => Web3.Eth.GetContractDeploymentHandler<TDeployment>().EstimateGasAsync(message), cancellationToken).ConfigureAwait(false);
            return new GasEstimate(gas.Value, null);
        }
        catch (Exception e) when (ContractRefusal.FromException(e) is { } refusal)
        {
            return new GasEstimate(0, refusal);
        }
    }

    /// <summary>Signs a contract call with an explicit gas limit, nonce and fees; nothing is sent.</summary>
    internal SignedEvmTransaction Sign<TFunction>(string contract, TFunction message, BigInteger gas, BigInteger nonce, EvmFees fees)
        where TFunction : FunctionMessage, new()
        => Sign(contract, message.GetCallData(), gas, nonce, fees);

    /// <summary>Signs a deployment with an explicit gas limit, nonce and fees; nothing is sent.</summary>
    internal SignedEvmTransaction SignDeployment<TDeployment>(TDeployment message, BigInteger gas, BigInteger nonce, EvmFees fees)
        where TDeployment : ContractDeploymentMessage, new()
        => Sign(null, message.GetDeploymentData(), gas, nonce, fees);

    /// <summary>
    /// Builds the transaction (EIP-1559 type 2 with an empty access list, or legacy with the EIP-155 chain id), has the
    /// submitter's <see cref="ISigner"/> sign its signing hash, and encodes it signed. The signer returns v = 27 + the
    /// recovery id; the encoding wants the y parity (type 2) or 35 + 2 × chain id + the recovery id (EIP-155).
    /// </summary>
    private SignedEvmTransaction Sign(string? to, byte[] data, BigInteger gas, BigInteger nonce, EvmFees fees)
    {
        var signer = _signer ?? throw new InvalidOperationException("this connection is read-only: it has no submitter");
        var dataHex = data.ToHex(prefix: true);
        Nethereum.Model.SignedTransaction transaction = fees.IsEip1559
            ? new Nethereum.Model.Transaction1559(ChainId, nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gas, to, BigInteger.Zero, dataHex, [])
            : new Nethereum.Model.LegacyTransactionChainId(to, BigInteger.Zero, nonce, fees.GasPrice, gas, dataHex, ChainId);
        var signature = signer.Sign(new Hash256(transaction.RawHash));
        var recoveryId = signature.V - 27;
        var v = fees.IsEip1559 ? new BigInteger(recoveryId) : (ChainId * 2) + 35 + recoveryId;
        transaction.SetSignature(new Nethereum.Model.Signature(Minimal(signature.R), Minimal(signature.S), v.ToBytesForRLPEncoding()));
        return SignedEvmTransaction.From(transaction.GetRLPEncoded().ToHex(prefix: true), nonce, gas, fees);
    }

    /// <summary>An unsigned integer's big-endian bytes without leading zeros, as RLP encodes it.</summary>
    private static byte[] Minimal(ReadOnlySpan<byte> value)
    {
        var start = 0;
        while (start < value.Length && value[start] == 0)
        {
            start++;
        }

        return value[start..].ToArray();
    }

    /// <summary>
    /// Sends a signed transaction. Sending one the node already holds (a retry after a lost answer) is not an error.
    /// </summary>
    /// <exception cref="EvmSendException">The node refused it (e.g. underpriced replacement, nonce already used).</exception>
    internal async Task SendAsync(SignedEvmTransaction transaction, CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync("eth_sendRawTransaction", () => Web3.Eth.Transactions.SendRawTransaction.SendRequestAsync(transaction.Raw), cancellationToken).ConfigureAwait(false);
        }
        catch (RpcResponseException e)
        {
            if (await IsKnownAsync(transaction.Hash, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            throw new EvmSendException($"the node refused transaction {transaction.Hash} (nonce {transaction.Nonce}): {e.RpcError?.Message ?? e.Message}", e);
        }
    }

    /// <summary>Whether the node knows the transaction (pending or mined).</summary>
    internal async Task<bool> IsKnownAsync(string hash, CancellationToken cancellationToken)
        => await CallAsync("eth_getTransactionByHash", () => Web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(hash), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Polls until one of <paramref name="hashes"/> (the same nonce, possibly re-priced) is mined and buried under
    /// <see cref="EvmOptions.ConfirmationDepth"/> blocks, still in the canonical chain; null after
    /// <see cref="EvmOptions.ReceiptTimeout"/>.
    /// </summary>
    internal async Task<MinedTransaction?> WaitForConfirmationAsync(IReadOnlyList<string> hashes, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + Options.ReceiptTimeout;
        while (true)
        {
            foreach (var hash in hashes)
            {
                var receipt = await PolledReceiptAsync(hash, cancellationToken).ConfigureAwait(false);
                if (receipt is null)
                {
                    continue;
                }

                var minedIn = (long)receipt.BlockNumber.Value;
                var head = await BlockNumberAsync(cancellationToken).ConfigureAwait(false);
                if (head - minedIn + 1 < Options.ConfirmationDepth)
                {
                    break;
                }

                // Buried deep enough: check the receipt still stands where it was (a reorganisation would move or drop it).
                var again = await PolledReceiptAsync(hash, cancellationToken).ConfigureAwait(false);
                if (again is null || again.BlockHash != receipt.BlockHash)
                {
                    break;
                }

                return new MinedTransaction(hash, minedIn, again.BlockHash, again.GasUsed.Value, again.Succeeded(), again.EffectiveGasPrice?.Value ?? 0, again.ContractAddress);
            }

            if (_time.GetUtcNow() >= deadline)
            {
                return null;
            }

            await Task.Delay(Options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Why a mined transaction reverted: the call replayed on the state of its block, decoded with the ABI.</summary>
    internal async Task<ContractRefusal> RevertReasonAsync(string hash, CancellationToken cancellationToken)
    {
        try
        {
            var reason = await CallAsync("eth_call", () => Web3.Eth.GetContractTransactionErrorReason.SendRequestAsync(hash), cancellationToken).ConfigureAwait(false);
            return new ContractRefusal("Revert", [new("reason", string.IsNullOrEmpty(reason) ? "the transaction reverted (out of gas, or no reason given)" : reason)]);
        }
        catch (Exception e) when (ContractRefusal.FromException(e) is { } refusal)
        {
            return refusal;
        }
    }

    /// <summary>
    /// The receipt while polling for it, with an error answer taken as "not yet": asked about a transaction it is
    /// mining, a node can fail inside for a moment (ganache 7 answers "Cannot read properties of undefined (reading
    /// 'toJSON')", under code -32700 as it labels every uncaught error; a CI run failed on it). The question is a read
    /// of a hash this node computed, so nothing in it can be wrong; the poll asks again, and a node that keeps failing
    /// ends in the confirmation timeout like one that never mines the transaction.
    /// </summary>
    private async Task<TransactionReceipt?> PolledReceiptAsync(string hash, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync<TransactionReceipt?>("eth_getTransactionReceipt", async () => await Web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (RpcResponseException e)
        {
            AnchoringLog.ReceiptNotReady(_logger, hash, $"{e.RpcError?.Code}: {e.Message}");
            return null;
        }
    }

    private Address RequireSubmitter()
        => Submitter ?? throw new InvalidOperationException("this connection is read-only: it has no submitter key");

    /// <summary>+12.5 % and one wei: above the 10 % most nodes require of a replacement.</summary>
    private static BigInteger Bump(BigInteger value) => value + (value / 8) + 1;

    private static ResiliencePipeline BuildRetry(EvmOptions options, TimeProvider time, ILogger logger)
    {
        if (options.MaxRetries == 0)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new Polly.PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    AnchoringLog.RpcRetry(logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message ?? "no answer");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>A failure in transit (connection, timeout, HTTP status), not an answer from the node.</summary>
    private static bool IsTransient(Exception exception) => exception is HttpRequestException or RpcClientTimeoutException or RpcClientUnknownException or IOException
        || (exception is TaskCanceledException && exception.InnerException is TimeoutException);

    private static async Task<T> Call<T>(ResiliencePipeline retry, Uri endpoint, string method, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await retry.ExecuteAsync(async _ => await call().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransient(e))
        {
            throw new EvmUnavailableException($"{endpoint} did not answer {method}: {e.Message}", e);
        }
    }
}

/// <summary>Gas estimate of a call, or the contract's refusal.</summary>
internal readonly record struct GasEstimate(BigInteger Gas, ContractRefusal? Refusal);

/// <summary>Fees of one transaction: EIP-1559 (max fee, tip) or a legacy gas price.</summary>
public readonly record struct EvmFees(bool IsEip1559, BigInteger MaxFeePerGas, BigInteger MaxPriorityFeePerGas, BigInteger GasPrice)
{
    public static EvmFees Eip1559(BigInteger maxFeePerGas, BigInteger maxPriorityFeePerGas) => new(true, maxFeePerGas, maxPriorityFeePerGas, 0);

    public static EvmFees Legacy(BigInteger gasPrice) => new(false, 0, 0, gasPrice);

    public override string ToString() => IsEip1559 ? $"max fee {MaxFeePerGas} wei, tip {MaxPriorityFeePerGas} wei" : $"gas price {GasPrice} wei";
}

/// <summary>A transaction signed locally: its raw bytes (hex), its hash, and what it was priced at.</summary>
internal sealed record SignedEvmTransaction(string Raw, string Hash, BigInteger Nonce, BigInteger Gas, EvmFees Fees)
{
    public static SignedEvmTransaction From(string raw, BigInteger nonce, BigInteger gas, EvmFees fees)
    {
        var hex = raw.EnsureHexPrefix();
        return new SignedEvmTransaction(hex, Sha3Keccack.Current.CalculateHashFromHex(hex).EnsureHexPrefix(), nonce, gas, fees);
    }
}

/// <summary>A transaction in a block under the confirmation depth.</summary>
public sealed record MinedTransaction(string Hash, long BlockNumber, string BlockHash, BigInteger GasUsed, bool Succeeded, BigInteger EffectiveGasPrice, string? ContractAddress);

/// <summary>The EVM endpoint did not answer (after the retries): try again later.</summary>
public sealed class EvmUnavailableException : Exception
{
    public EvmUnavailableException()
    {
    }

    public EvmUnavailableException(string message)
        : base(message)
    {
    }

    public EvmUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The EVM node refused a signed transaction (not the contract: the node, e.g. an underpriced replacement).</summary>
public sealed class EvmSendException : Exception
{
    public EvmSendException()
    {
    }

    public EvmSendException(string message)
        : base(message)
    {
    }

    public EvmSendException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>A setting of anchoring is wrong (the chain, the contract, the key, the state file): stop with one line.</summary>
public sealed class AnchoringConfigurationException : Exception
{
    public AnchoringConfigurationException()
    {
    }

    public AnchoringConfigurationException(string message)
        : base(message)
    {
    }

    public AnchoringConfigurationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
