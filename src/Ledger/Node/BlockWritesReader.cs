using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// The state after a block, read as the block's own writes (the last write to a key wins, as in the tree) over the
/// state of its parent. It gives the same values as a reader of the block's new state root, without walking the new
/// tree for the keys the block just wrote (the projections read exactly those).
/// </summary>
internal sealed class BlockWritesReader : IStateReader
{
    private readonly Dictionary<Hash256, byte[]?> _written;
    private readonly IStateReader _parent;

    public BlockWritesReader(IReadOnlyList<StateWrite> writes, IStateReader parent)
    {
        _written = new Dictionary<Hash256, byte[]?>(writes.Count);
        for (var i = 0; i < writes.Count; i++)
        {
            _written[writes[i].Key] = writes[i].Value;
        }

        _parent = parent;
    }

    public CryptoSuite Suite => _parent.Suite;

    public byte[]? Get(Hash256 key) => _written.TryGetValue(key, out var value) ? value : _parent.Get(key);
}
