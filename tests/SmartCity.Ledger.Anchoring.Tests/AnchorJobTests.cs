using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.Anchor;
using SmartCity.Testing.Evm;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// The AnchorJob's runs (<see cref="Anchorer"/>, what <see cref="AnchorJob"/> executes on each fire) against a real
/// ganache and a store the engine certified: anchoring after N blocks, resuming after a restart without re-anchoring
/// (also with an anchor in flight), an EVM outage reported and recovered from, a refusal reported with its reason.
/// </summary>
public sealed class AnchorJobTests(LocalEvmFixture evm) : IClassFixture<LocalEvmFixture>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [EvmFact]
    public async Task The_job_anchors_the_head_once_it_is_N_blocks_past_the_latest_checkpoint_and_a_restart_does_not_anchor_it_again()
    {
        var node = await evm.NodeAsync();
        using var deployer = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(deployer);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 2);
        var jobs = Path.Combine(ledger.Directory, "jobs");
        var options = Options(node, contract, everyBlocks: 3);
        using var submitter = await AnchorTestKit.ConnectAsync(node, account: 1);

        var early = await NewAnchorer(node, options, new FileAnchorRecordStore(jobs)).RunAsync(ledger.Store, None);
        await ledger.AppendRecordsAsync(1);
        var due = await NewAnchorer(node, options, new FileAnchorRecordStore(jobs)).RunAsync(ledger.Store, None);
        var saved = await new FileAnchorRecordStore(jobs).GetAsync(contract.ContractAddress.ToString(), None);
        var nonceAfterAnchor = await submitter.PendingNonceAsync(None);

        // A restart: a new job over the same data directory, the head unchanged.
        var restarted = await NewAnchorer(node, options, new FileAnchorRecordStore(jobs)).RunAsync(ledger.Store, None);
        var nonceAfterRestart = await submitter.PendingNonceAsync(None);
        await ledger.AppendRecordsAsync(3);
        var next = await NewAnchorer(node, options, new FileAnchorRecordStore(jobs)).RunAsync(ledger.Store, None);

        Assert.Equal(AnchorRunStatus.NothingToAnchor, early.Status);
        Assert.Contains("nothing to anchor: the contract's latest checkpoint is block 0, the head 2 (every 3 blocks)", early.Summary, StringComparison.Ordinal);
        Assert.True(due.Status == AnchorRunStatus.Anchored, due.Summary);
        Assert.Equal(ledger.Block(3).Header.Hash, (await contract.CheckpointAtAsync(3, None))!.HeaderHash);
        Assert.Equal((3L, due.Anchored!.TransactionHash, ledger.Block(3).Header.Hash.ToString()), (saved.Last!.Height, saved.Last.TransactionHash, saved.Last.HeaderHash));
        Assert.Null(saved.Pending);
        Assert.True(File.Exists(Path.Combine(jobs, "anchoring.json")));
        Assert.Equal(AnchorRunStatus.NothingToAnchor, restarted.Status);
        Assert.Equal(nonceAfterAnchor, nonceAfterRestart);
        Assert.True(next.Status == AnchorRunStatus.Anchored, next.Summary);
        Assert.Equal(6L, next.AnchoredHeight);
        Assert.Equal(2L, await contract.CheckpointCountAsync(None));
        Assert.Equal(JobOutcomes.Succeeded, AnchorJob.Outcome(next.Status));
    }

    [EvmFact]
    public async Task An_anchor_sent_before_a_restart_is_followed_to_its_confirmation_and_not_sent_again()
    {
        var node = await evm.NodeAsync();
        using var deployer = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(deployer);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 3);
        var jobs = Path.Combine(ledger.Directory, "jobs");
        using var submitter = await AnchorTestKit.ConnectAsync(node, account: 1);
        var address = contract.ContractAddress.ToString();
        var head = (await ledger.Store.GetHeaderAsync(3, None))!;

        // The run before the restart sent block 3 and persisted it as pending, then the node stopped before the receipt.
        var sent = await new CheckpointAnchorService(submitter, address).SendAnchorAsync(head.Header, head.Certificate, None);
        Assert.NotNull(sent.TransactionHash);
        await new FileAnchorRecordStore(jobs).SavePendingAsync(new PendingAnchor(address, 3, head.BlockHash.ToString(), sent.TransactionHash!, sent.Nonce.ToString(System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow), None);

        var resumed = await NewAnchorer(node, Options(node, contract, everyBlocks: 1), new FileAnchorRecordStore(jobs)).RunAsync(ledger.Store, None);
        var state = await new FileAnchorRecordStore(jobs).GetAsync(address, None);

        Assert.True(resumed.Status == AnchorRunStatus.Anchored, resumed.Summary);
        Assert.Equal(sent.TransactionHash, resumed.Anchored!.TransactionHash);
        Assert.Equal(sent.Nonce + 1, await submitter.PendingNonceAsync(None)); // the job sent nothing of its own
        Assert.Equal(1L, await contract.CheckpointCountAsync(None));
        Assert.Equal((3L, sent.TransactionHash), (state.Last!.Height, state.Last.TransactionHash));
        Assert.Null(state.Pending);
    }

    [EvmFact]
    public async Task An_unreachable_EVM_node_is_reported_as_a_failed_run_in_the_metrics_and_the_next_run_anchors()
    {
        var node = await evm.NodeAsync();
        using var deployer = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(deployer);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 2);
        var jobs = Path.Combine(ledger.Directory, "jobs");
        var options = Options(node, contract, everyBlocks: 1);
        options.RpcUrl = $"http://127.0.0.1:{LocalEvmNode.FreeLoopbackPort()}";
        using var probe = new MetricsProbe();

        var down = await NewAnchorer(node, options, new FileAnchorRecordStore(jobs), probe.Metrics).RunAsync(ledger.Store, None);
        options.RpcUrl = node.RpcUrl.ToString();
        var up = await NewAnchorer(node, options, new FileAnchorRecordStore(jobs), probe.Metrics).RunAsync(ledger.Store, None);
        probe.Listener.RecordObservableInstruments();

        Assert.Equal(AnchorRunStatus.Unavailable, down.Status);
        Assert.Equal(JobOutcomes.Failed, AnchorJob.Outcome(down.Status));
        Assert.Contains("the EVM node cannot be used now", down.Summary, StringComparison.Ordinal);
        Assert.Contains("did not answer eth_chainId", down.Summary, StringComparison.Ordinal);
        Assert.True(up.Status == AnchorRunStatus.Anchored, up.Summary);
        Assert.Equal(2L, await contract.LatestHeightAsync(None));
        Assert.Equal(1, probe.Count("anchor.submissions", "failed"));
        Assert.Equal(1, probe.Count("anchor.submissions", "anchored"));
        Assert.Equal(2L, probe.Last("anchor.height"));
        Assert.Equal(0L, probe.Last("anchor.lag"));
    }

    [EvmFact]
    public async Task A_checkpoint_the_contract_refuses_is_reported_with_its_decoded_reason_and_nothing_is_recorded()
    {
        var node = await evm.NodeAsync();
        var sample = GenesisBuilder.Sample.Value;

        // A contract of the same ledger chain that knows only three of the four validators: the header's set is not its set.
        using var deployer = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(deployer, sample with { Validators = [.. sample.Validators.Take(3)] });
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 1);
        var jobs = Path.Combine(ledger.Directory, "jobs");
        using var probe = new MetricsProbe();

        var refused = await NewAnchorer(node, Options(node, contract, everyBlocks: 1), new FileAnchorRecordStore(jobs), probe.Metrics).RunAsync(ledger.Store, None);
        var state = await new FileAnchorRecordStore(jobs).GetAsync(contract.ContractAddress.ToString(), None);

        Assert.Equal(AnchorRunStatus.Refused, refused.Status);
        Assert.Equal("WrongValidatorSet", refused.Refusal!.Error);
        Assert.StartsWith("the contract refused block 1: WrongValidatorSet(", refused.Summary, StringComparison.Ordinal);
        Assert.EndsWith("(at estimation: nothing was sent)", refused.Summary, StringComparison.Ordinal);
        Assert.Equal(JobOutcomes.Failed, AnchorJob.Outcome(refused.Status));
        Assert.Equal((null, null), (state.Last, state.Pending));
        Assert.Null(await contract.LatestHeightAsync(None));
        Assert.Equal(1, probe.Count("anchor.submissions", "refused"));
    }

    internal static AnchorJobOptions Options(LocalEvmNode node, CheckpointAnchorService contract, long everyBlocks) => new()
    {
        RpcUrl = node.RpcUrl.ToString(),
        Contract = contract.ContractAddress.ToString(),
        EvmChainId = node.ChainId,
        EveryBlocks = everyBlocks,
        Confirmations = 1,
        ReceiptTimeout = TimeSpan.FromSeconds(60),
        MaxRetries = 1,
    };

    /// <summary>A run of the job as account 1 of the local node (the deployer is account 0: any funded account may anchor).</summary>
    internal static Anchorer NewAnchorer(LocalEvmNode node, AnchorJobOptions options, IAnchorRecordStore records, JobMetrics? metrics = null)
        => new(options, AnchorTestKit.SignerOf(node, 1), records, GenesisBuilder.Sample.Value.ChainId, metrics ?? new JobMetrics(), NullLogger.Instance, TimeProvider.System);
}

/// <summary>The anchoring instruments of one <see cref="JobMetrics"/> (its own meter factory), as a scrape would read them.</summary>
internal sealed class MetricsProbe : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly ConcurrentQueue<(string Name, string? Outcome, long Value)> _measurements = new();

    public MetricsProbe()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        Metrics = new JobMetrics(factory);
        Listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name.StartsWith("anchor.", StringComparison.Ordinal))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        Listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcome = tag.Value as string;
                }
            }

            _measurements.Enqueue((instrument.Name, outcome, value));
        });
        Listener.Start();
    }

    public JobMetrics Metrics { get; }

    public MeterListener Listener { get; }

    public long Count(string name, string outcome) => _measurements.Where(m => m.Name == name && m.Outcome == outcome).Sum(m => m.Value);

    public long Last(string name) => _measurements.Last(m => m.Name == name).Value;

    public void Dispose()
    {
        Listener.Dispose();
        Metrics.Dispose();
        _services.Dispose();
    }
}
