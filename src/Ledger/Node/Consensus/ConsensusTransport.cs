using System.Threading.Channels;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Node.Consensus;

/// <summary>
/// How a validator's consensus messages reach the others: the encoded bytes of <see cref="Ledger.Consensus.ConsensusCodec"/>,
/// as the peer network will carry them. Delivery is best effort — QBFT tolerates loss, delay and duplication (a lost
/// vote is made up for by a round change) — and every queue is bounded.
/// </summary>
public interface IConsensusTransport
{
    /// <summary>Queues <paramref name="message"/> for every other validator; never blocks (a full peer queue drops it).</summary>
    void Broadcast(ReadOnlyMemory<byte> message);

    /// <summary>Encoded messages from the other validators, unverified: the engine checks every signature.</summary>
    ChannelReader<ReadOnlyMemory<byte>> Inbound { get; }
}

/// <summary>
/// Passes transactions a node admitted from its clients on to the other validators' mempools (gossip), so whichever
/// validator proposes next has them, and each peer has verified each signature once before the block arrives.
/// Never blocks: a full peer queue drops (the submitter's node still holds the transaction).
/// </summary>
public interface ITransactionRelay
{
    void Relay(IReadOnlyList<ReadOnlyMemory<byte>> transactions);
}

/// <summary>
/// Validators of one process talking over bounded in-memory queues: the transport of the in-process consortium and of
/// the tests until the gRPC peer network exists. A validator can be cut off (it neither sends nor receives) and
/// reconnected, as a network partition would do.
/// </summary>
public sealed class InProcessConsensusNetwork
{
    private readonly int _queueCapacity;
    private readonly Lock _gate = new();
    private readonly Dictionary<Address, Link> _links = [];
    private readonly HashSet<Address> _cutOff = [];
    private long _dropped;

    /// <param name="queueCapacity">Messages waiting per receiving validator before further ones are dropped.</param>
    public InProcessConsensusNetwork(int queueCapacity = 4_096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        _queueCapacity = queueCapacity;
    }

    /// <summary>Messages dropped so far because a validator was cut off or its queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The transport of <paramref name="validator"/>; one per validator.</summary>
    public IConsensusTransport Join(Address validator)
    {
        lock (_gate)
        {
            if (_links.ContainsKey(validator))
            {
                throw new InvalidOperationException($"validator {validator} has already joined this network");
            }

            var link = new Link(this, validator, Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(_queueCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the message is dropped and counted
                SingleReader = true,
            }));
            _links.Add(validator, link);
            return link;
        }
    }

    /// <summary>Cuts <paramref name="validator"/> off: what it sends and what is sent to it is dropped until <see cref="Reconnect"/>.</summary>
    public void CutOff(Address validator)
    {
        lock (_gate)
        {
            _cutOff.Add(validator);
        }
    }

    public void Reconnect(Address validator)
    {
        lock (_gate)
        {
            _cutOff.Remove(validator);
        }
    }

    private void Broadcast(Address from, ReadOnlyMemory<byte> message)
    {
        List<Link> receivers;
        lock (_gate)
        {
            if (_cutOff.Contains(from))
            {
                Interlocked.Add(ref _dropped, _links.Count - 1);
                return;
            }

            receivers = [.. _links.Values.Where(l => l.Validator != from)];
            foreach (var link in receivers.Where(l => _cutOff.Contains(l.Validator)).ToList())
            {
                receivers.Remove(link);
                Interlocked.Increment(ref _dropped);
            }
        }

        foreach (var link in receivers)
        {
            if (!link.Queue.Writer.TryWrite(message))
            {
                Interlocked.Increment(ref _dropped);
            }
        }
    }

    private sealed class Link(InProcessConsensusNetwork network, Address validator, Channel<ReadOnlyMemory<byte>> queue) : IConsensusTransport
    {
        public Address Validator { get; } = validator;

        public Channel<ReadOnlyMemory<byte>> Queue { get; } = queue;

        public ChannelReader<ReadOnlyMemory<byte>> Inbound => Queue.Reader;

        public void Broadcast(ReadOnlyMemory<byte> message) => network.Broadcast(Validator, message);
    }
}
