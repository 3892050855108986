using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// A stored node of the state tree, addressed by its hash. Nodes are immutable and shared between versions: a new
/// version writes only the nodes on the paths its writes touched.
/// </summary>
/// <remarks>
/// Encoding (what a store persists): a leaf is 0x00 ‖ key (32) ‖ value bytes; an interior node is
/// 0x01 ‖ left (32) ‖ right (32), which is also its hash preimage; a page of four levels is 0x02 ‖ … (<see cref="StatePageNode"/>).
/// </remarks>
public abstract class StateNode
{
    private protected StateNode()
    {
    }

    /// <summary>The node's hash, recomputed from its content (what the store keys it by).</summary>
    /// <summary>The node's hash under the chain's crypto suite.</summary>
    public abstract Hash256 ComputeHash(CryptoSuite suite);

    public abstract byte[] Encode();

    /// <summary>The length of <see cref="Encode"/>'s bytes.</summary>
    public abstract int EncodedLength { get; }

    /// <summary>Writes the encoding into <paramref name="destination"/> (at least <see cref="EncodedLength"/> bytes); returns its length.</summary>
    public abstract int EncodeTo(Span<byte> destination);

    public static StateNode Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length >= 1 + Hash256.Size && encoded[0] == StateHashing.LeafPrefix)
        {
            return new StateLeafNode(new Hash256(encoded.Slice(1, Hash256.Size)), encoded[(1 + Hash256.Size)..].ToArray());
        }

        if (encoded.Length == 1 + (2 * Hash256.Size) && encoded[0] == StateHashing.InternalPrefix)
        {
            return new StateInternalNode(new Hash256(encoded.Slice(1, Hash256.Size)), new Hash256(encoded[(1 + Hash256.Size)..]));
        }

        if (encoded.Length > 0 && encoded[0] == StatePageNode.Prefix)
        {
            return StatePageNode.TryDecode(encoded) ?? throw new FormatException("not a valid state tree page");
        }

        throw new FormatException("not an encoded state tree node");
    }
}

/// <summary>A key and its value: the whole of a subtree that holds a single key, at whatever depth it sits.</summary>
public sealed class StateLeafNode(Hash256 key, byte[] value) : StateNode
{
    public Hash256 Key { get; } = key;

    /// <summary>The value bytes; owned by the tree, never mutated.</summary>
    public byte[] Value { get; } = value;

    public override Hash256 ComputeHash(CryptoSuite suite) => StateHashing.Leaf(suite, Key, Value);

    public override int EncodedLength => 1 + Hash256.Size + Value.Length;

    public override byte[] Encode()
    {
        var encoded = new byte[EncodedLength];
        EncodeTo(encoded);
        return encoded;
    }

    public override int EncodeTo(Span<byte> destination)
    {
        destination[0] = StateHashing.LeafPrefix;
        Key.CopyTo(destination[1..]);
        Value.CopyTo(destination[(1 + Hash256.Size)..]);
        return EncodedLength;
    }
}

/// <summary>An interior node over at least two keys; a child is <see cref="StateHashing.Empty"/> when it holds none.</summary>
public sealed class StateInternalNode(Hash256 left, Hash256 right) : StateNode
{
    public Hash256 Left { get; } = left;

    public Hash256 Right { get; } = right;

    public override Hash256 ComputeHash(CryptoSuite suite) => StateHashing.Internal(suite, Left, Right);

    /// <summary>The length of every interior node's encoding.</summary>
    internal const int Length = 1 + (2 * Hash256.Size);

    public override int EncodedLength => Length;

    public override byte[] Encode()
    {
        var encoded = new byte[EncodedLength];
        EncodeTo(encoded);
        return encoded;
    }

    public override int EncodeTo(Span<byte> destination) => EncodeTo(Left, Right, destination);

    /// <summary>Writes the encoding of the interior node over <paramref name="left"/> and <paramref name="right"/>.</summary>
    internal static int EncodeTo(in Hash256 left, in Hash256 right, Span<byte> destination)
    {
        destination[0] = StateHashing.InternalPrefix;
        left.CopyTo(destination[1..]);
        right.CopyTo(destination[(1 + Hash256.Size)..]);
        return Length;
    }
}

/// <summary>
/// A node an applied batch created, by value: its hash and either its leaf or an interior node's two children. The tree
/// hands a block's tens of thousands of new nodes to its store as these, so it makes no object for an interior node (they
/// were the largest share of the objects a loaded node allocated, and each outlived a collection while its block was
/// pending); a store that keeps node objects makes them (<see cref="ToNode"/>).
/// </summary>
public readonly record struct NewStateNode(Hash256 Hash, Hash256 Left, Hash256 Right, StateLeafNode? Leaf, StatePageNode? Page = null)
{
    /// <summary>A new page (<see cref="PagedStateTree"/>).</summary>
    public static NewStateNode OfPage(in Hash256 hash, StatePageNode page) => new(hash, default, default, null, page ?? throw new ArgumentNullException(nameof(page)));

    /// <summary>A new interior node.</summary>
    public static NewStateNode Interior(in Hash256 hash, in Hash256 left, in Hash256 right) => new(hash, left, right, null);

    /// <summary>A new leaf.</summary>
    public static NewStateNode OfLeaf(in Hash256 hash, StateLeafNode leaf) => new(hash, default, default, leaf ?? throw new ArgumentNullException(nameof(leaf)));

    /// <summary>The node as an object (a leaf is its own).</summary>
    public StateNode ToNode() => Leaf ?? Page ?? (StateNode)new StateInternalNode(Left, Right);

    /// <inheritdoc cref="StateNode.EncodedLength"/>
    public int EncodedLength => Leaf?.EncodedLength ?? Page?.EncodedLength ?? StateInternalNode.Length;

    /// <inheritdoc cref="StateNode.EncodeTo"/>
    public int EncodeTo(Span<byte> destination) => Leaf?.EncodeTo(destination) ?? Page?.EncodeTo(destination) ?? StateInternalNode.EncodeTo(Left, Right, destination);

    /// <inheritdoc cref="StateNode.Encode"/>
    public byte[] Encode()
    {
        var encoded = new byte[EncodedLength];
        EncodeTo(encoded);
        return encoded;
    }
}
