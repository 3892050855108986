namespace SmartCity.Ledger.Node;

/// <summary>
/// Limits of one node's runtime (section <c>Node</c> of the node configuration). Every bound is explicit so a flood
/// of submissions meets a clear rejection, never unbounded memory. Checked by <see cref="Validate"/> at start-up.
/// </summary>
public sealed class LedgerNodeOptions
{
    /// <summary>Transactions the mempool holds at most (ready and held-for-a-nonce together); beyond it, <see cref="AdmissionCode.MempoolFull"/>.</summary>
    public int MempoolCapacity { get; set; } = 50_000;

    /// <summary>Transactions one signer may have in the mempool; beyond it, <see cref="AdmissionCode.SignerQueueFull"/>.</summary>
    public int MaxTransactionsPerSigner { get; set; } = 10_000;

    /// <summary>
    /// How far past the signer's next nonce a transaction may be and still be held until the gap fills:
    /// nonces in (next, next + MaxNonceGap] wait; higher ones are <see cref="AdmissionCode.NonceTooFarAhead"/>.
    /// </summary>
    public int MaxNonceGap { get; set; } = 64;

    /// <summary>How long a transaction may wait for the nonces before it; then it is dropped with a reason.</summary>
    public TimeSpan HeldTransactionLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Commands queued for the writer at most; submitters wait (asynchronously) while it is full.</summary>
    public int InboxCapacity { get; set; } = 16_384;

    /// <summary>Outcomes (committed or rejected after admission) remembered by transaction id for status queries.</summary>
    public int RecentOutcomes { get; set; } = 1 << 17;

    /// <summary>Committed blocks kept in memory for Watch subscribers; older ones are read from the store.</summary>
    public int RecentBlocks { get; set; } = 256;

    /// <summary>Slots of the verified-signature cache shared by admission, proposal validation and certificates.</summary>
    public int SignatureCacheCapacity { get; set; } = 1 << 17;

    /// <summary>How far into the future a proposal's timestamp may be, measured on this node's clock.</summary>
    public TimeSpan MaxClockDrift { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a decided block the store refused (disk full, database unreachable) is offered to it again; the node
    /// accepts no transactions meanwhile and resumes by itself.
    /// </summary>
    public TimeSpan StoreRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Threads that verify signatures in a batch; all cores when null.</summary>
    public int? VerifyParallelism { get; set; }

    /// <summary>
    /// Single submissions decoded and signature-checked at once; when null, one fewer than the cores (at least one), so
    /// the writer, which every transaction passes through in order, always finds a core free. Submitters beyond it wait
    /// (asynchronously) for a turn. Batches (<c>SubmitMany</c>, peers' gossip) verify on <see cref="VerifyParallelism"/>.
    /// </summary>
    public int? IntakeConcurrency { get; set; }

    /// <summary>What <see cref="IntakeConcurrency"/> comes to on this machine.</summary>
    public int EffectiveIntakeConcurrency => IntakeConcurrency ?? Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Every problem with these settings, one line each (empty when they are usable).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Positive(MempoolCapacity, nameof(MempoolCapacity));
        Positive(MaxTransactionsPerSigner, nameof(MaxTransactionsPerSigner));
        Positive(InboxCapacity, nameof(InboxCapacity));
        Positive(RecentOutcomes, nameof(RecentOutcomes));
        Positive(RecentBlocks, nameof(RecentBlocks));
        if (IntakeConcurrency is < 1)
        {
            errors.Add($"{nameof(IntakeConcurrency)} must be at least 1 when set, got {IntakeConcurrency}");
        }

        if (MaxNonceGap < 0)
        {
            errors.Add($"{nameof(MaxNonceGap)} must be 0 or more, got {MaxNonceGap}");
        }

        if (SignatureCacheCapacity is < 4 or > 1 << 26)
        {
            errors.Add($"{nameof(SignatureCacheCapacity)} must be between 4 and {1 << 26}, got {SignatureCacheCapacity}");
        }

        if (HeldTransactionLifetime <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(HeldTransactionLifetime)} must be positive, got {HeldTransactionLifetime}");
        }

        if (MaxClockDrift < TimeSpan.Zero)
        {
            errors.Add($"{nameof(MaxClockDrift)} must not be negative, got {MaxClockDrift}");
        }

        if (StoreRetryInterval <= TimeSpan.Zero || StoreRetryInterval > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{nameof(StoreRetryInterval)} must be positive and at most 5 minutes, got {StoreRetryInterval}");
        }

        if (VerifyParallelism is < 1)
        {
            errors.Add($"{nameof(VerifyParallelism)} must be at least 1 when set, got {VerifyParallelism}");
        }

        return errors;

        void Positive(int value, string name)
        {
            if (value < 1)
            {
                errors.Add($"{name} must be at least 1, got {value}");
            }
        }
    }
}
