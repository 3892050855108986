using System.Numerics;

namespace SmartCity.Ledger.Anchoring.Evm;

/// <summary>How gas is priced: EIP-1559 fees when the chain has a base fee, else a legacy gas price.</summary>
public enum GasPricing
{
    /// <summary>EIP-1559 (type-2) when the latest block has a base fee, legacy otherwise.</summary>
    Auto = 0,

    /// <summary>Always EIP-1559; refused at connection if the chain has no base fee.</summary>
    Eip1559,

    /// <summary>Always a legacy gas price (eth_gasPrice).</summary>
    Legacy,
}

/// <summary>Settings of the EVM connection and of the transactions sent over it (section <c>Anchoring:Evm</c>).</summary>
public sealed record EvmOptions
{
    /// <summary>The JSON-RPC endpoint (http or https).</summary>
    public required Uri RpcUrl { get; init; }

    /// <summary>When set, <c>eth_chainId</c> must return it, so a misconfigured endpoint never receives a signed transaction.</summary>
    public ulong? ExpectedChainId { get; init; }

    public GasPricing Gas { get; init; } = GasPricing.Auto;

    /// <summary>The EIP-1559 tip offered to the block producer.</summary>
    public BigInteger MaxPriorityFeePerGasWei { get; init; } = 1_000_000_000;

    /// <summary>A cap on the fee per gas (EIP-1559 max fee or legacy gas price); above it nothing is sent. Null: no cap.</summary>
    public BigInteger? MaxFeePerGasWei { get; init; }

    /// <summary>The gas limit sent is the node's estimate times this margin.</summary>
    public double GasLimitMargin { get; init; } = 1.2;

    /// <summary>Blocks that must hold the transaction (its own included) before it counts as anchored.</summary>
    public int ConfirmationDepth { get; init; } = 1;

    /// <summary>How often a receipt or a new block is polled for.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one submission waits for its receipt and confirmations before it is left pending.</summary>
    public TimeSpan ReceiptTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries of a JSON-RPC call that failed in transit (connection refused, timeout), with exponential back-off.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>The first back-off delay; each retry doubles it (with jitter).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Checks the settings; a bad one stops start-up with one line naming it.</summary>
    public void Validate()
    {
        if (RpcUrl is null || !RpcUrl.IsAbsoluteUri || (RpcUrl.Scheme != Uri.UriSchemeHttp && RpcUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("Anchoring:Evm:RpcUrl must be an absolute http or https URL");
        }

        if (MaxPriorityFeePerGasWei < 0 || MaxFeePerGasWei is { Sign: < 0 })
        {
            throw new ArgumentException("Anchoring:Evm fees must not be negative");
        }

        if (GasLimitMargin is < 1 or > 10 || double.IsNaN(GasLimitMargin))
        {
            throw new ArgumentException("Anchoring:Evm:GasLimitMargin must be between 1 and 10");
        }

        if (ConfirmationDepth is < 1 or > 1000)
        {
            throw new ArgumentException("Anchoring:Evm:ConfirmationDepth must be between 1 and 1000");
        }

        if (PollInterval <= TimeSpan.Zero || ReceiptTimeout < PollInterval || RetryBaseDelay < TimeSpan.Zero || MaxRetries is < 0 or > 20)
        {
            throw new ArgumentException("Anchoring:Evm needs PollInterval > 0, ReceiptTimeout ≥ PollInterval, RetryBaseDelay ≥ 0 and MaxRetries 0..20");
        }
    }
}
