using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// The whole state in a dictionary: the reference implementation for tests and the simulator, with a canonical
/// snapshot form and a digest over the sorted contents (to be replaced by the state tree's root).
/// </summary>
public sealed class InMemoryState(CryptoSuite suite) : IStateReader
{
    private readonly Dictionary<Hash256, byte[]> _entries = [];

    public CryptoSuite Suite { get; } = suite ?? throw new ArgumentNullException(nameof(suite));

    public int Count => _entries.Count;

    /// <summary>The entries in key order.</summary>
    public IEnumerable<KeyValuePair<Hash256, byte[]>> Entries => _entries.OrderBy(e => e.Key);

    public byte[]? Get(Hash256 key) => _entries.GetValueOrDefault(key);

    public void Apply(IEnumerable<StateWrite> writes)
    {
        foreach (var write in writes)
        {
            if (write.Value is null)
            {
                _entries.Remove(write.Key);
            }
            else
            {
                _entries[write.Key] = write.Value;
            }
        }
    }

    /// <summary>The suite's hash over the canonical snapshot (entries sorted by key): equal states, equal digests.</summary>
    public Hash256 Digest() => Suite.Hash(Snapshot());

    /// <summary>u32 count, then per entry in key order: 32-byte key, u32 length, value.</summary>
    public byte[] Snapshot()
    {
        var writer = new CanonicalWriter();
        writer.WriteUInt32((uint)_entries.Count);
        foreach (var (key, value) in Entries)
        {
            writer.WriteRaw(key.Bytes);
            writer.WriteBytes(value);
        }

        return writer.ToArray();
    }

    public static InMemoryState Restore(ReadOnlyMemory<byte> snapshot, CryptoSuite suite)
    {
        var reader = new CanonicalReader(snapshot);
        var state = new InMemoryState(suite);
        var count = reader.ReadUInt32();
        for (var i = 0u; i < count && !reader.Failed; i++)
        {
            var key = reader.ReadRaw(Hash256.Size);
            var value = reader.ReadBytes();
            if (!reader.Failed)
            {
                state._entries[new Hash256(key)] = value;
            }
        }

        return reader.Finish() ? state : throw new InvalidDataException("corrupt state snapshot: " + reader.Error);
    }
}

/// <summary>Pending writes over a base state: what a transaction (or a block) sees of its own changes.</summary>
public sealed class StateOverlay(IStateReader baseState) : IStateReader
{
    private readonly Dictionary<Hash256, byte[]?> _pending = [];
    private readonly List<Hash256> _order = [];

    /// <summary>An overlay sized for about <paramref name="capacity"/> keys, so it does not grow while it fills.</summary>
    public StateOverlay(IStateReader baseState, int capacity)
        : this(baseState)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _pending.EnsureCapacity(capacity);
        _order.Capacity = capacity;
    }

    public CryptoSuite Suite => baseState.Suite;

    public byte[]? Get(Hash256 key) => _pending.TryGetValue(key, out var value) ? value : baseState.Get(key);

    public void Set(Hash256 key, byte[]? value)
    {
        if (!_pending.ContainsKey(key))
        {
            _order.Add(key);
        }

        _pending[key] = value;
    }

    /// <summary>The net writes, one per key, in first-write order (deterministic for a given transaction).</summary>
    public IReadOnlyList<StateWrite> Writes
    {
        get
        {
            var writes = new StateWrite[_order.Count];
            for (var i = 0; i < writes.Length; i++)
            {
                var key = _order[i];
                writes[i] = new StateWrite(key, _pending[key]);
            }

            return writes;
        }
    }

    /// <summary>The net writes, one per key, sorted by key (keys are distinct, so the order is the same however sorted).</summary>
    public StateWrite[] SortedWrites()
    {
        var writes = (StateWrite[])Writes;
        Array.Sort(writes, static (x, y) => x.Key.CompareTo(y.Key));
        return writes;
    }
}
