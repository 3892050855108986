using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// Messages for heights this node has not reached, held until it gets there. Bounded in all
/// (<see cref="QbftParameters.MaxFutureMessages"/>) and per sender (an equal share of that bound), so one validator's
/// flood cannot push out the others' messages. Replayed in arrival order.
/// </summary>
internal sealed class FutureMessageBuffer(int capacity)
{
    private readonly Dictionary<Address, List<(long Sequence, ConsensusMessage Message)>> _bySender = [];
    private long _sequence;

    public int Count { get; private set; }

    /// <summary>False when the sender's share (capacity / validators) is used up.</summary>
    public bool TryAdd(ConsensusMessage message, int validators)
    {
        if (!_bySender.TryGetValue(message.Sender, out var list))
        {
            list = [];
            _bySender[message.Sender] = list;
        }

        if (list.Count >= Math.Max(1, capacity / Math.Max(1, validators)) || Count >= capacity)
        {
            return false;
        }

        list.Add((_sequence++, message));
        Count++;
        return true;
    }

    /// <summary>Removes and returns the messages for <paramref name="height"/>; drops those for lower heights.</summary>
    public List<ConsensusMessage> TakeHeight(long height)
    {
        var taken = new List<(long Sequence, ConsensusMessage Message)>();
        foreach (var list in _bySender.Values)
        {
            var before = list.Count;
            taken.AddRange(list.Where(m => m.Message.Height == height));
            list.RemoveAll(m => m.Message.Height <= height);
            Count -= before - list.Count;
        }

        taken.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return [.. taken.Select(m => m.Message)];
    }
}
