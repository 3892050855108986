using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Tests.State;

/// <summary>A node a batch created, by value: the same encoding and hash as the node object it stands for.</summary>
public sealed class NewStateNodeTests
{
    private static readonly CryptoSuite Suite = CryptoSuite.Eth;

    [Fact]
    public void An_interior_node_encodes_and_hashes_as_its_object()
    {
        var left = Suite.Hash([1]);
        var right = Suite.Hash([2]);
        var inner = new StateInternalNode(left, right);
        var entry = NewStateNode.Interior(inner.ComputeHash(Suite), left, right);

        var encoded = new byte[entry.EncodedLength];
        Assert.Equal(encoded.Length, entry.EncodeTo(encoded));
        Assert.Equal(inner.Encode(), encoded);
        var node = Assert.IsType<StateInternalNode>(entry.ToNode());
        Assert.Equal((left, right), (node.Left, node.Right));
        Assert.Equal(entry.Hash, node.ComputeHash(Suite));
    }

    [Fact]
    public void A_leaf_encodes_as_its_object_and_is_that_object()
    {
        var leaf = new StateLeafNode(Suite.Hash([3]), [9, 8, 7, 6]);
        var entry = NewStateNode.OfLeaf(leaf.ComputeHash(Suite), leaf);

        var encoded = new byte[entry.EncodedLength];
        Assert.Equal(encoded.Length, entry.EncodeTo(encoded));
        Assert.Equal(leaf.Encode(), encoded);
        Assert.Same(leaf, entry.ToNode());
        Assert.Throws<ArgumentNullException>(() => NewStateNode.OfLeaf(entry.Hash, null!));
    }
}
