using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// A stored node of the state tree, addressed by its hash. Nodes are immutable and shared between versions: a new
/// version writes only the nodes on the paths its writes touched.
/// </summary>
/// <remarks>
/// Encoding (what a store persists): a leaf is 0x00 ‖ key (32) ‖ value bytes; an interior node is
/// 0x01 ‖ left (32) ‖ right (32), which is also its hash preimage.
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

    public override int EncodedLength => 1 + (2 * Hash256.Size);

    public override byte[] Encode()
    {
        var encoded = new byte[EncodedLength];
        EncodeTo(encoded);
        return encoded;
    }

    public override int EncodeTo(Span<byte> destination)
    {
        destination[0] = StateHashing.InternalPrefix;
        Left.CopyTo(destination[1..]);
        Right.CopyTo(destination[(1 + Hash256.Size)..]);
        return EncodedLength;
    }
}
