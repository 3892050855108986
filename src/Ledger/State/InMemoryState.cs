using System.Buffers;
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
/// <remarks>
/// The keys and values sit in two arrays in first-write order. A transaction's overlay (a handful of keys) is searched
/// by a scan: a dictionary and a list for each of ~10,000 transactions a second were a kilobyte of garbage each. Past
/// <see cref="ScanLimit"/> keys (a block's overlay) a dictionary indexes the arrays.
/// </remarks>
public sealed class StateOverlay(IStateReader baseState) : IStateReader
{
    private const int ScanLimit = 16;

    private Hash256[] _keys = [];
    private byte[]?[] _values = [];
    private IStateValue?[] _decoded = []; // the value a Set was given, when it was: read back without decoding
    private int _count;
    private Dictionary<Hash256, int>? _index;

    /// <summary>An overlay sized for about <paramref name="capacity"/> keys, so it does not grow while it fills.</summary>
    public StateOverlay(IStateReader baseState, int capacity)
        : this(baseState)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _keys = new Hash256[capacity];
        _values = new byte[]?[capacity];
        _decoded = new IStateValue?[capacity];
    }

    public CryptoSuite Suite => baseState.Suite;

    public byte[]? Get(Hash256 key) => IndexOf(key) is var at and >= 0 ? _values[at] : baseState.Get(key);

    public void Set(Hash256 key, byte[]? value) => Set(key, value, null);

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/>, the encoding of <paramref name="decoded"/> when given:
    /// a later <see cref="StateValue.Read{T}"/> of the key in this overlay returns that object instead of decoding
    /// the bytes again (a rule that writes a record and then indexes it reads it right back).
    /// </summary>
    public void Set(Hash256 key, byte[]? value, IStateValue? decoded)
    {
        var at = IndexOf(key);
        if (at >= 0)
        {
            _values[at] = value;
            _decoded[at] = decoded;
            return;
        }

        if (_count == _keys.Length)
        {
            var size = Math.Max(8, _keys.Length * 2);
            Array.Resize(ref _keys, size);
            Array.Resize(ref _values, size);
            Array.Resize(ref _decoded, size);
        }

        _keys[_count] = key;
        _values[_count] = value;
        _decoded[_count] = decoded;
        _index?.Add(key, _count);
        _count++;
        if (_index is null && _count > ScanLimit)
        {
            _index = new Dictionary<Hash256, int>(_keys.Length);
            for (var i = 0; i < _count; i++)
            {
                _index.Add(_keys[i], i);
            }
        }
    }

    /// <summary>The value last set for <paramref name="key"/> in this overlay, if it was set with its decoded form of type <typeparamref name="T"/>.</summary>
    internal bool TryGetDecoded<T>(in Hash256 key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
        where T : class
    {
        var at = IndexOf(key);
        value = at >= 0 ? _decoded[at] as T : null;
        return value is not null;
    }

    /// <summary>The net writes, one per key, in first-write order (deterministic for a given transaction).</summary>
    public IReadOnlyList<StateWrite> Writes
    {
        get
        {
            var writes = new StateWrite[_count];
            for (var i = 0; i < writes.Length; i++)
            {
                writes[i] = new StateWrite(_keys[i], _values[i]);
            }

            return writes;
        }
    }

    /// <summary>The net writes, one per key, sorted by key (keys are distinct, so the order is the same however sorted).</summary>
    public StateWrite[] SortedWrites()
    {
        // The writes sorted by a copy of their keys, through Hash256's own comparison: a block's ~1,000 writes through a
        // comparison delegate were ~0.8 % of a loaded node's CPU.
        var writes = (StateWrite[])Writes;
        var keys = ArrayPool<Hash256>.Shared.Rent(writes.Length);
        try
        {
            _keys.AsSpan(0, writes.Length).CopyTo(keys);
            Array.Sort(keys, writes, 0, writes.Length);
        }
        finally
        {
            ArrayPool<Hash256>.Shared.Return(keys);
        }

        return writes;
    }

    private int IndexOf(in Hash256 key)
    {
        if (_index is not null)
        {
            return _index.TryGetValue(key, out var at) ? at : -1;
        }

        for (var i = 0; i < _count; i++)
        {
            if (_keys[i] == key)
            {
                return i;
            }
        }

        return -1;
    }
}
