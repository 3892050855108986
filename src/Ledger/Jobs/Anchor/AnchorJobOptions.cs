using SmartCity.Ledger.Anchoring.Evm;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys;

namespace SmartCity.Ledger.Jobs.Anchor;

/// <summary>
/// <c>jobs.anchor</c>: checkpoints of this node's certified head sent to a CheckpointAnchor contract on an EVM chain
/// (docs/anchoring.md, "The AnchorJob"). Absent from the configuration: the job does not run. The schedule
/// (<see cref="JobScheduleOptions.Interval"/> or <see cref="JobScheduleOptions.Cron"/>) is how often the job looks; a run
/// anchors when the head is <see cref="EveryBlocks"/> blocks past the latest checkpoint, or when
/// <see cref="MaxDelay"/> has passed since it and any new block is certified.
/// </summary>
public sealed class AnchorJobOptions : JobScheduleOptions
{
    public AnchorJobOptions() => Interval = TimeSpan.FromMinutes(1);

    /// <summary>The EVM chain's JSON-RPC endpoint (http or https).</summary>
    public string RpcUrl { get; set; } = string.Empty;

    /// <summary>The CheckpointAnchor contract's address (deployed with <c>smartcity anchor deploy</c>).</summary>
    public string Contract { get; set; } = string.Empty;

    /// <summary>When set, the endpoint's <c>eth_chainId</c> must be this, or nothing is signed.</summary>
    public ulong? EvmChainId { get; set; }

    /// <summary>
    /// The account that pays for the anchors (any funded account: the contract trusts the validators' seals, not the
    /// submitter). Opened at start-up through <c>KeySource</c>: an encrypted keystore or a PKCS#11 token; a clear-text
    /// file only with <c>insecurePlaintext: true</c>.
    /// </summary>
    public KeySourceOptions? SubmitterKey { get; set; }

    /// <summary>Anchor when the certified head is at least this many blocks past the latest checkpoint (default 100).</summary>
    public long EveryBlocks { get; set; } = 100;

    /// <summary>Also anchor any newer certified head once the latest checkpoint is this old (none: blocks only).</summary>
    public TimeSpan? MaxDelay { get; set; }

    /// <summary>Blocks that must hold the anchor transaction (its own included) before it counts (default 2).</summary>
    public int Confirmations { get; set; } = 2;

    /// <summary><c>auto</c> (EIP-1559 when the chain has a base fee, legacy otherwise), <c>eip1559</c> or <c>legacy</c>.</summary>
    public GasPricing Gas { get; set; } = GasPricing.Auto;

    /// <summary>The fee cap per gas in wei (EIP-1559 max fee or legacy gas price): above it nothing is sent (none: no cap).</summary>
    public ulong? MaxFeePerGasWei { get; set; }

    /// <summary>How long one run waits for the receipt and confirmations before it leaves the anchor pending (default 2 min).</summary>
    public TimeSpan ReceiptTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries of an EVM call that failed in transit, with exponential back-off (default 3).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>
    /// How long a sent anchor that is neither confirmed nor known to the EVM node any more is waited for before a new one
    /// is sent (default 10 min). While the node still holds it, it is always waited for (never a second transaction).
    /// </summary>
    public TimeSpan PendingTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The EVM connection's settings.</summary>
    public EvmOptions ToEvmOptions() => new()
    {
        RpcUrl = new Uri(RpcUrl, UriKind.Absolute),
        ExpectedChainId = EvmChainId,
        Gas = Gas,
        MaxFeePerGasWei = MaxFeePerGasWei,
        ConfirmationDepth = Confirmations,
        ReceiptTimeout = ReceiptTimeout,
        PollInterval = ReceiptTimeout < TimeSpan.FromSeconds(10) ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1),
        MaxRetries = MaxRetries,
    };

    public override IEnumerable<string> Validate(string name)
    {
        foreach (var error in base.Validate(name))
        {
            yield return error;
        }

        if (!Enabled)
        {
            yield break;
        }

        if (!Uri.TryCreate(RpcUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            yield return $"jobs.{name}.rpcUrl: must be an http:// or https:// URL, got '{RpcUrl}'";
        }

        if (!Address.TryParse(Contract ?? string.Empty, out _, out var addressError))
        {
            yield return $"jobs.{name}.contract: '{Contract}' is not an address: {addressError}";
        }

        if (SubmitterKey is null)
        {
            yield return $"jobs.{name}.submitterKey: required (keystore, pkcs11, or plaintext with insecurePlaintext: true)";
        }
        else if (SubmitterKey.Validate() is { } keyProblem)
        {
            yield return $"jobs.{name}.submitterKey: {keyProblem.Message}";
        }

        if (EveryBlocks < 1)
        {
            yield return $"jobs.{name}.everyBlocks: must be at least 1, got {EveryBlocks}";
        }

        if (MaxDelay is { } delay && (delay < TimeSpan.FromSeconds(1) || delay > TimeSpan.FromDays(30)))
        {
            yield return $"jobs.{name}.maxDelay: must be between 00:00:01 and 30.00:00:00, got {delay}";
        }

        if (Confirmations is < 1 or > 1000)
        {
            yield return $"jobs.{name}.confirmations: must be between 1 and 1000, got {Confirmations}";
        }

        if (!Enum.IsDefined(Gas))
        {
            yield return $"jobs.{name}.gas: must be auto, eip1559 or legacy";
        }

        if (ReceiptTimeout < TimeSpan.FromSeconds(1) || ReceiptTimeout > TimeSpan.FromHours(1))
        {
            yield return $"jobs.{name}.receiptTimeout: must be between 00:00:01 and 01:00:00, got {ReceiptTimeout}";
        }

        if (MaxRetries is < 0 or > 20)
        {
            yield return $"jobs.{name}.maxRetries: must be between 0 and 20, got {MaxRetries}";
        }

        if (PendingTimeout < ReceiptTimeout)
        {
            yield return $"jobs.{name}.pendingTimeout: must be at least receiptTimeout ({ReceiptTimeout}), got {PendingTimeout}";
        }
    }
}
