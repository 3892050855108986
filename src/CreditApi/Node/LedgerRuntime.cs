using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Jobs;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Node;

/// <summary>
/// The node's ledger inside the host: opens the configured store and the <see cref="LedgerNode"/> on it when the host
/// starts (before Kestrel listens), with the development sealing engine when the genesis has a single validator and
/// this node holds its key, and closes both when the host stops (after Kestrel has drained its calls). Readiness
/// follows it: <see cref="NodeReadiness.StoreOpen"/> and <see cref="NodeReadiness.ChainLoaded"/> while it opens, and
/// <see cref="Committing"/> while the node commits (not while its store refuses blocks: disk full, database down).
/// </summary>
public sealed partial class LedgerRuntime(NodeStartup startup, NodeReadiness readiness, ISignatureScheme curve, ILoggerFactory loggers, TimeProvider time, JobRuns jobRuns, IConsensusPeers? peers = null) : IHostedService, IAsyncDisposable, IJobLedger
{
    /// <summary>Readiness condition: the node commits (it has not stopped after a store or consensus fault).</summary>
    public const string Committing = "ledger-committing";

    private readonly ILogger _logger = loggers.CreateLogger("SmartCity.CreditApi.Ledger");
    private LedgerNode? _node;
    private ILedgerStore? _store;
    private IJobStateStore? _jobState;
    private CancellationTokenSource? _watchHealth;
    private MemoryGovernor? _governor;

    public NodeStartup Startup => startup;

    /// <summary>The running node; only while the host runs.</summary>
    public LedgerNode Node => _node ?? throw new InvalidOperationException("the ledger is not open");

    /// <summary>How blocks are certified here, as Status reports it: <c>solo</c>, <c>qbft</c> or <c>none</c>.</summary>
    public string Certification { get; private set; } = "none";

    /// <summary>This validator's peer links as they are now (Status); empty unless the node runs QBFT.</summary>
    public IReadOnlyList<PeerLinkState> PeerLinks => Certification == "qbft" && peers is not null ? peers.LinkStates : [];

    /// <summary>The last run of each scheduled job (Status).</summary>
    public JobRuns JobRuns => jobRuns;

    /// <summary>What the scheduled jobs read: the store, genesis, curve and the jobs' own state; null unless the node runs.</summary>
    public JobLedgerView? Current => _node is not null && _store is { } store && _jobState is { } state ? new JobLedgerView(store, startup.Genesis, curve, state) : null;

    /// <summary>The jobs' checkpoints and reports (files next to the embedded store, tables in the PostgreSQL schema); only while the host runs.</summary>
    public IJobStateStore JobState => _jobState ?? throw new InvalidOperationException("the ledger is not open");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Require(NodeReadiness.StoreOpen, "opening the store");
        readiness.Require(NodeReadiness.ChainLoaded, "loading the chain");
        readiness.Require(Committing, "starting");
        var store = await OpenStoreAsync(cancellationToken).ConfigureAwait(false);
        readiness.Ready(NodeReadiness.StoreOpen);

        IConsensusEngine? engine = null;
        var validators = new Ledger.Blocks.ValidatorSet(startup.Genesis.Validators.Select(v => v.Address));
        if (startup.Sealer is { } sealer && SoloSealingEngine.Misfit(validators, sealer) is null)
        {
            engine = new SoloSealingEngine(sealer);
            Certification = "solo";
        }
        else if (peers is not null && startup.Signer is { } signer && QbftConsensusEngine.Misfit(validators) is null)
        {
            // QBFT over the peer network: the journal is fsynced before any vote leaves (docs/consensus.md).
            engine = new QbftConsensusEngine(signer, peers, new FileConsensusJournal(startup.JournalPath), startup.Config.Consensus.ToParameters(), time, loggers.CreateLogger<QbftConsensusEngine>(), blocks: peers);
            Certification = "qbft";
            LogQbft(_logger, validators.Count, startup.Peers.Count, startup.JournalPath);
        }
        else
        {
            LogNotCommitting(_logger, startup.Genesis.Validators.Count, startup.Sealer?.Validator.ToString() ?? "none");
        }

        try
        {
            _node = await LedgerNode.OpenAsync(
                new LedgerNodeSetup { Genesis = startup.Genesis, Store = store, Curve = curve, Consensus = engine, Options = startup.Config.Limits, ChainOptions = startup.Config.ToChainOptions(), Time = time, LoggerFactory = loggers, Relay = Certification == "qbft" ? peers : null },
                cancellationToken).ConfigureAwait(false);
            if (Certification == "qbft")
            {
                await peers!.StartAsync(_node, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _store = store;
        _jobState = startup.Postgres is { } postgres
            ? await PostgresJobStateStore.OpenAsync(postgres.ConnectionString, postgres.Schema, cancellationToken).ConfigureAwait(false)
            : new FileJobStateStore(Path.Combine(startup.Embedded!.DataDirectory, "jobs"));
        readiness.Ready(NodeReadiness.ChainLoaded);
        readiness.Ready(Committing);
        if (startup.Config.ToMemoryBudget() is { } budget)
        {
            _governor = new MemoryGovernor(budget, _node.ResizeCaches, loggers.CreateLogger("SmartCity.Ledger.Node.Memory"), time).Start();
        }

        _watchHealth = new CancellationTokenSource();
        _ = FollowHealthAsync(_node, _watchHealth.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _governor, null) is { } governor)
        {
            await governor.DisposeAsync().ConfigureAwait(false);
        }

        if (_watchHealth is { } watch)
        {
            await watch.CancelAsync().ConfigureAwait(false);
            watch.Dispose();
            _watchHealth = null;
        }

        if (Interlocked.Exchange(ref _node, null) is { } node)
        {
            readiness.NotReady(Committing, "the node is stopping");
            await node.DisposeAsync().ConfigureAwait(false);
        }

        _store = null;
        if (peers is not null)
        {
            await peers.DisposeAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _jobState, null) is IAsyncDisposable jobState)
        {
            await jobState.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<ILedgerStore> OpenStoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            return startup.Postgres is { } postgres
                ? await PostgresLedgerStore.OpenAsync(postgres, cancellationToken).ConfigureAwait(false)
                : await EmbeddedLedgerStore.OpenAsync(startup.Embedded!, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e)
        {
            throw new NodeConfigurationException($"the {startup.StoreKind} store cannot be opened: {e.Message}", e);
        }
    }

    /// <summary>Marks the node not ready when it stops committing (a store or consensus fault), with the reason.</summary>
    private async Task FollowHealthAsync(LedgerNode node, CancellationToken cancellationToken)
    {
        try
        {
            var head = node.Head;
            var health = NodeHealth.Running;
            while (head.Health is NodeHealth.Running or NodeHealth.StoreUnavailable)
            {
                if (head.Health != health)
                {
                    health = head.Health;
                    if (health == NodeHealth.StoreUnavailable)
                    {
                        readiness.NotReady(Committing, $"the store cannot commit: {head.Fault}");
                    }
                    else
                    {
                        readiness.Ready(Committing);
                    }
                }

                head = await head.NextAsync(cancellationToken).ConfigureAwait(false);
            }

            if (head.Health == NodeHealth.Faulted)
            {
                readiness.NotReady(Committing, head.Fault ?? "faulted");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "ledger: QBFT with {Validators} validators over {Peers} peer links; journal {Journal}")]
    private static partial void LogQbft(ILogger logger, int validators, int peers, string journal);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "ledger: the genesis has {Validators} validators and this node's key is {Key}: no consensus engine runs here, so the node serves reads and refuses submissions (FAILED_PRECONDITION) until the consensus engine is configured")]
    private static partial void LogNotCommitting(ILogger logger, int validators, string key);
}
