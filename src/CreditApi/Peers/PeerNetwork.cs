using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;
using CertifiedBlock = SmartCity.Ledger.Node.Consensus.CertifiedBlock;

namespace SmartCity.CreditApi.Peers;

/// <summary>A validator this node dials: its region, its address (from the genesis) and where it listens.</summary>
public sealed record PeerEndpoint(string Region, Address Validator, Uri Address);

/// <summary>The peer network's bounds (docs/consensus.md, "Peer network").</summary>
public sealed record PeerNetworkOptions
{
    /// <summary>Frames waiting per peer link; beyond it the oldest are dropped and counted (the engine never waits).</summary>
    public int SendQueueCapacity { get; init; } = 8_192;

    /// <summary>Consensus messages waiting for the engine from all peers; beyond it new ones are dropped and counted.</summary>
    public int InboundCapacity { get; init; } = 4_096;

    /// <summary>Relayed transaction batches waiting for admission; beyond it new ones are dropped and counted.</summary>
    public int RelayInboundCapacity { get; init; } = 256;

    /// <summary>The largest batch frame a link sends (consensus messages and transactions together).</summary>
    public int MaxBatchBytes { get; init; } = 1 << 20;

    /// <summary>
    /// How long relayed transactions at the head of a link's queue wait for more before their frame is sent (0: no
    /// wait). Gossip of single client submissions otherwise goes out a few transactions per frame.
    /// </summary>
    public TimeSpan TransactionLinger { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The most blocks asked for (and served) at once in block sync.</summary>
    public int MaxBlocksPerRequest { get; init; } = 64;

    /// <summary>The most bytes of blocks served in one answer (at least one block is always served).</summary>
    public int MaxBlockResponseBytes { get; init; } = 8 << 20;

    /// <summary>First reconnect delay; it doubles per failed attempt up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long each handshake step and each block request may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often an otherwise idle link tells its peer this node's head once the head moved (every batch carries it
    /// too): a validator that missed the last block of an idle chain hears no more votes, and learns from these that
    /// f+1 peers are ahead (<see cref="PeerNetwork.PeersHead"/>), so it catches up.
    /// </summary>
    public TimeSpan HeadAnnounceInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Dialer nonces remembered to refuse a replayed handshake.</summary>
    public int RememberedNonces { get; init; } = 65_536;
}

/// <summary>
/// This validator's links to the other validators over gRPC (contracts/proto/smartcity/peer/v1/peer.proto): the
/// <see cref="IConsensusTransport"/> of its <see cref="QbftConsensusEngine"/>, the <see cref="ICertifiedBlockSource"/> of
/// its catch-up and the <see cref="ITransactionRelay"/> of its mempool. It dials every configured peer (one
/// <see cref="PeerLink"/> each, reconnecting with back-off) and serves the links the others dial
/// (<see cref="PeerServiceImpl"/>). Every queue is bounded; a full one drops and counts, so the engine never waits.
/// Nothing a peer sends is trusted: consensus messages are verified by the engine, transactions on admission, blocks
/// by their certificate and by re-execution.
/// </summary>
public sealed partial class PeerNetwork : IConsensusPeers
{
    private readonly Channel<ReadOnlyMemory<byte>> _inbound;
    private readonly Channel<IReadOnlyList<ReadOnlyMemory<byte>>> _relayed;
    private readonly ConcurrentDictionary<Address, long> _reportedHeads = new();
    private readonly ConcurrentDictionary<Address, DateTimeOffset> _suspects = new();
    private readonly Dictionary<long, (CertifiedBlock Block, Address From)> _fetched = [];
    private readonly SemaphoreSlim _fetching = new(1, 1);
    private readonly NonceMemory _nonces;
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;
    private readonly ILogger _logger;
    private readonly List<Task> _loops = [];
    private LedgerNode? _node;
    private Hash256 _genesisHash;
    private int _nextPeer;
    private long _inboundDropped;
    private long _relayDropped;
    private long _handshakesRefused;

    public PeerNetwork(ulong chainId, IReadOnlyCollection<Address> validators, IConsensusCrypto crypto, ISigner signer, IEnumerable<PeerEndpoint> peers, PeerNetworkOptions? options = null, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentNullException.ThrowIfNull(peers);
        ChainId = chainId;
        Validators = validators.ToHashSet();
        Options = options ?? new PeerNetworkOptions();
        Time = time ?? TimeProvider.System;
        Loggers = loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        _logger = Loggers.CreateLogger("SmartCity.CreditApi.Peers");
        Handshakes = new PeerHandshakes(crypto, signer);
        _nonces = new NonceMemory(Options.RememberedNonces);
        _inbound = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(Options.InboundCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _relayed = Channel.CreateBounded<IReadOnlyList<ReadOnlyMemory<byte>>>(new BoundedChannelOptions(Options.RelayInboundCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        var links = new List<PeerLink>();
        foreach (var peer in peers)
        {
            if (peer.Validator == signer.Address)
            {
                throw new ArgumentException($"peer {peer.Region} is this validator itself", nameof(peers));
            }

            links.Add(new PeerLink(this, peer));
        }

        Links = links;
    }

    public ulong ChainId { get; }

    /// <summary>The genesis validator set (the set in force until the node has opened its chain).</summary>
    public IReadOnlySet<Address> Validators { get; }

    /// <summary>
    /// Whether <paramref name="address"/> is a member of the validator set in force after this node's head (the genesis
    /// set until the chain is open): the only validators this node dials and accepts links from. A validator voted in is
    /// admitted once this node has committed the block that passed the vote (from its activation height); a validator
    /// voted out is refused, and its open links are closed (<see cref="WatchMembership"/>), once this node has committed
    /// the block that removed it. The engine still checks every vote against the set of its own height.
    /// </summary>
    public bool IsValidator(Address address) => Node is { } node ? node.Head.Validators.Contains(address) : Validators.Contains(address);

    /// <summary>How often an open link checks that its peer is still in the set in force.</summary>
    public static readonly TimeSpan MembershipCheck = TimeSpan.FromMilliseconds(500);

    /// <summary>Cancels <paramref name="link"/> once <paramref name="peer"/> is no longer in the set in force (checked every <see cref="MembershipCheck"/>).</summary>
    internal ITimer WatchMembership(Address peer, CancellationTokenSource link)
        => Time.CreateTimer(
            _ =>
            {
                if (!IsValidator(peer))
                {
                    try
                    {
                        link.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // the link ended meanwhile
                    }
                }
            },
            null,
            MembershipCheck,
            MembershipCheck);

    public PeerNetworkOptions Options { get; }

    public TimeProvider Time { get; }

    internal ILoggerFactory Loggers { get; }

    internal PeerHandshakes Handshakes { get; }

    public Address Self => Handshakes.Self;

    public IReadOnlyList<PeerLink> Links { get; }

    /// <summary>The hash of this chain's genesis block header (known once <see cref="StartAsync"/> ran).</summary>
    public Hash256 GenesisHash => _genesisHash;

    internal LedgerNode? Node => Volatile.Read(ref _node);

    /// <summary>Consensus messages dropped on arrival because the engine's queue was full.</summary>
    public long InboundDropped => Interlocked.Read(ref _inboundDropped);

    /// <summary>Relayed transaction batches dropped on arrival because admission was behind.</summary>
    public long RelayDropped => Interlocked.Read(ref _relayDropped);

    /// <summary>Inbound handshakes refused (wrong chain, not a validator, bad signature, replayed nonce, …).</summary>
    public long HandshakesRefused => Interlocked.Read(ref _handshakesRefused);

    /// <summary>Frames dropped on the way out, over every link (link down or queue full).</summary>
    public long SendDropped => Links.Sum(l => l.Dropped);

    /// <summary>Links whose handshake completed and which are up now.</summary>
    public int ConnectedPeers => Links.Count(l => l.IsConnected);

    public IReadOnlyList<PeerLinkState> LinkStates
        => [.. Links.Select(l => new PeerLinkState(l.Peer.Region, l.Peer.Validator, l.Peer.Address, l.IsConnected, ReportedHead(l.Peer.Validator), l.Dropped, l.Connections))];

    /// <summary>The highest head <paramref name="peer"/> reported, or -1.</summary>
    public long ReportedHead(Address peer) => _reportedHeads.TryGetValue(peer, out var height) ? height : -1;

    public ChannelReader<ReadOnlyMemory<byte>> Inbound => _inbound.Reader;

    /// <summary>Starts dialing the peers and serving links, once the node's chain is open (its genesis block names the chain).</summary>
    public async Task StartAsync(LedgerNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var genesis = await node.Blocks.GetBlockAsync(0, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("the store has no genesis block");
        if (!BlockHeader.TryDecode(genesis.Header.Header.Span, out var header, out var error))
        {
            throw new InvalidOperationException($"the genesis block header does not decode: {error}");
        }

        _genesisHash = header!.Hash;
        Volatile.Write(ref _node, node);
        _loops.Add(Task.Run(() => AdmitRelayedAsync(node, _stop.Token), CancellationToken.None));
        foreach (var link in Links)
        {
            _loops.Add(Task.Run(() => link.RunAsync(_stop.Token), CancellationToken.None));
        }

        LogStarted(_logger, Self, Links.Count, string.Join(", ", Links.Select(l => $"{l.Peer.Region} {l.Peer.Address}")));
    }

    public void Broadcast(ReadOnlyMemory<byte> message)
    {
        foreach (var link in Links)
        {
            link.EnqueueConsensus(message);
        }
    }

    public void Relay(IReadOnlyList<ReadOnlyMemory<byte>> transactions)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        foreach (var link in Links)
        {
            link.EnqueueTransactions(transactions);
        }
    }

    /// <summary>The head that f+1 peers reported reaching (so at least one honest one has), or 0.</summary>
    public long PeersHead
    {
        get
        {
            var faulty = (Validators.Count - 1) / 3;
            var heads = _reportedHeads.Values.OrderDescending().ToList();
            return heads.Count > faulty ? heads[faulty] : 0;
        }
    }

    /// <summary>
    /// Records the head <paramref name="peer"/> stated. Within a connection it only rises (frames may overtake each
    /// other); a handshake (<paramref name="handshake"/>) replaces it, so a peer restarted from a store that lost its
    /// tail is not chased at a height it no longer has.
    /// </summary>
    internal void ReportHead(Address peer, long height, bool handshake = false)
    {
        if (height >= 0)
        {
            _reportedHeads.AddOrUpdate(
                peer,
                static (_, report) => report.Height,
                static (_, old, report) => report.Handshake ? report.Height : Math.Max(old, report.Height),
                (Height: height, Handshake: handshake)); // no closure: this runs for every batch a peer sends
        }
    }

    public async Task<CertifiedBlock?> GetAsync(long height, CancellationToken cancellationToken)
    {
        await _fetching.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_fetched.Remove(height, out var cached))
            {
                foreach (var stale in _fetched.Keys.Where(h => h < height).ToList())
                {
                    _fetched.Remove(stale);
                }

                _returned = (height, cached.From);
                return cached.Block;
            }

            _fetched.Clear();
            var now = Time.GetUtcNow();
            var candidates = Links.Where(l => l.IsConnected).ToList();
            if (candidates.Count == 0)
            {
                return null;
            }

            // Start with the next peer in turn; peers that served a refused block recently go last.
            var start = Interlocked.Increment(ref _nextPeer);
            var ordered = candidates
                .Select((link, i) => (link, order: (i - start % candidates.Count + candidates.Count) % candidates.Count))
                .OrderBy(c => _suspects.TryGetValue(c.link.Peer.Validator, out var until) && until > now ? 1 : 0)
                .ThenBy(c => c.order)
                .Select(c => c.link);
            foreach (var link in ordered)
            {
                var blocks = await link.RequestBlocksAsync(height, Options.MaxBlocksPerRequest, cancellationToken).ConfigureAwait(false);
                if (blocks is null || blocks.Count == 0)
                {
                    continue;
                }

                for (var i = 0; i < blocks.Count; i++)
                {
                    _fetched[height + i] = (blocks[i], link.Peer.Validator);
                }

                _fetched.Remove(height, out var first);
                _returned = (height, first.From);
                return first.Block;
            }

            return null;
        }
        finally
        {
            _fetching.Release();
        }
    }

    public void Refused(long height)
    {
        _fetching.Wait();
        try
        {
            // The peer that served the refused block is asked last for a while, and nothing else it sent is used.
            if (_returned is { } returned && returned.Height == height)
            {
                _suspects[returned.From] = Time.GetUtcNow() + SuspectFor;
                LogBadBlock(_logger, returned.From, height);
            }

            _fetched.Clear();
        }
        finally
        {
            _fetching.Release();
        }
    }

    /// <summary>How long a peer that served a refused block is asked last.</summary>
    public static readonly TimeSpan SuspectFor = TimeSpan.FromSeconds(30);

    private (long Height, Address From)? _returned;

    /// <summary>Consensus bytes from an authenticated peer, for the engine (which checks every signature).</summary>
    internal void Deliver(ByteString message)
    {
        if (!_inbound.Writer.TryWrite(message.Memory))
        {
            Interlocked.Increment(ref _inboundDropped);
        }
    }

    /// <summary>Transactions from an authenticated peer, for this node's mempool (verified on admission).</summary>
    internal void DeliverTransactions(IReadOnlyList<ReadOnlyMemory<byte>> transactions)
    {
        if (transactions.Count > 0 && !_relayed.Writer.TryWrite(transactions))
        {
            Interlocked.Increment(ref _relayDropped);
        }
    }

    internal void HandshakeRefused(string peer, string reason)
    {
        Interlocked.Increment(ref _handshakesRefused);
        LogHandshakeRefused(_logger, peer, reason);
    }

    /// <summary>Records a dialer's nonce; false when it was seen before (a replayed handshake).</summary>
    internal bool RememberNonce(in Hash256 nonce) => _nonces.Add(nonce);

    private async Task AdmitRelayedAsync(LedgerNode node, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in _relayed.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await node.SubmitRelayedAsync(batch, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is NodeStoppedException or ObjectDisposedException)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>
    /// Stops every loop; idempotent, since the host's container disposes this instance once per registration that
    /// resolves it (as itself and as <see cref="IConsensusPeers"/>): a second call used to throw on the disposed token
    /// source and turn a clean SIGTERM into exit code 2.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var loop in _loops)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }

    /// <summary>A bounded set of recent nonces (first in, first out).</summary>
    private sealed class NonceMemory(int capacity)
    {
        private readonly HashSet<Hash256> _seen = [];
        private readonly Queue<Hash256> _order = new();

        public bool Add(Hash256 nonce)
        {
            lock (_seen)
            {
                if (!_seen.Add(nonce))
                {
                    return false;
                }

                _order.Enqueue(nonce);
                if (_order.Count > capacity)
                {
                    _seen.Remove(_order.Dequeue());
                }

                return true;
            }
        }
    }

    [LoggerMessage(EventId = 3120, Level = LogLevel.Information, Message = "peers: validator {Validator} dials {Count} peers: {Peers}")]
    private static partial void LogStarted(ILogger logger, Address validator, int count, string peers);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Warning, Message = "peers: refused a link from {Peer}: {Reason}")]
    private static partial void LogHandshakeRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 3122, Level = LogLevel.Warning, Message = "peers: {Peer} served a block at height {Height} this node refused; it is asked last for 30 s")]
    private static partial void LogBadBlock(ILogger logger, Address peer, long height);
}
