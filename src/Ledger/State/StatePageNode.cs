using System.Buffers.Binary;
using System.Numerics;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// A page of the state tree: the binary subtree between depths d and d + 4 (d a multiple of four) stored as one node,
/// its 16 slots the subtrees at depth d + 4 by the next four key bits (most significant first): empty, a single key (a
/// leaf, stored on its own), or a subtree of two or more keys (the page below, or a binary interior node a store wrote
/// before pages). Its hash is the hash of that binary subtree, computed exactly as <see cref="StateTree"/> computes it, so
/// roots, proofs and receipts do not change with the unit a store keeps (docs/state-pages.md).
/// </summary>
/// <remarks>
/// Encoding: 0x02 ‖ occupied (2 bytes, big-endian; bit i set when slot i holds a subtree) ‖ leaves (2 bytes; bit i set
/// when that subtree is a single key) ‖ the occupied slots' hashes in slot order. A page holds two or more keys: at least
/// two occupied slots, or one that is not a leaf.
/// </remarks>
public sealed class StatePageNode : StateNode
{
    public const byte Prefix = 0x02;

    /// <summary>Slots a page has: four binary levels.</summary>
    public const int SlotCount = 16;

    private const int HeaderLength = 5;

    private readonly Hash256[] _children;

    // The hashes of the page's inner nodes that are interior nodes (in heap order: 1 the page's own hash, 2-3 the next
    // level, … 8-15 the level above the slots), kept once computed, so an update rehashes only the path of a changed
    // slot. An inner node over nothing is empty and one over a single key is that leaf's hash: neither is kept, so a
    // sparse page (most of those near the bottom of the tree) keeps one or two.
    private Hash256[]? _interior;

    private StatePageNode(ushort occupied, ushort leaves, Hash256[] children, Hash256[]? interior, int interiorMask)
    {
        Occupied = occupied;
        Leaves = leaves;
        _children = children;
        _interior = interior;
        _interiorMask = interiorMask;
    }

    // Which inner nodes are interior nodes (bit n): fixed by the slots, asked on every read of an inner hash.
    private readonly int _interiorMask;

    /// <summary>Bit i set: slot i holds a subtree.</summary>
    public ushort Occupied { get; }

    /// <summary>Bit i set: slot i holds a single key (a leaf). Always within <see cref="Occupied"/>.</summary>
    public ushort Leaves { get; }

    /// <summary>A page of the given slots (16 hashes, zero where empty); false when they do not make a valid page.</summary>
    public static bool TryCreate(ReadOnlySpan<Hash256> slots, ushort leaves, out StatePageNode? page)
    {
        page = null;
        if (slots.Length != SlotCount)
        {
            return false;
        }

        ushort occupied = 0;
        for (var i = 0; i < SlotCount; i++)
        {
            occupied |= slots[i].IsZero ? (ushort)0 : (ushort)(1 << i);
        }

        if (!IsValid(occupied, leaves))
        {
            return false;
        }

        var children = new Hash256[BitOperations.PopCount(occupied)];
        for (int i = 0, k = 0; i < SlotCount; i++)
        {
            if (!slots[i].IsZero)
            {
                children[k++] = slots[i];
            }
        }

        page = new StatePageNode(occupied, leaves, children, null, InteriorMask(occupied, leaves));
        return true;
    }

    /// <summary>A page the tree built, with the inner hashes it computed (<paramref name="inner"/>: heap order, 16 entries).</summary>
    internal static StatePageNode FromTree(ushort occupied, ushort leaves, Hash256[] children, ReadOnlySpan<Hash256> inner)
    {
        var interiorMask = InteriorMask(occupied, leaves);
        var interior = new Hash256[BitOperations.PopCount((uint)interiorMask)];
        for (int node = 1, k = 0; node < SlotCount; node++)
        {
            if (((interiorMask >> node) & 1) != 0)
            {
                interior[k++] = inner[node];
            }
        }

        return new(occupied, leaves, children, interior, interiorMask);
    }

    /// <summary>A page from its slots' hashes followed by its kept interior hashes (as <see cref="CopyHashesTo"/> wrote them).</summary>
    internal static StatePageNode FromParts(ushort occupied, ushort leaves, int interiorMask, Hash256[] children, Hash256[] interior) =>
        new(occupied, leaves, children, interior, interiorMask);

    /// <summary>Whether the kept interior hashes are computed (a page the tree built, or one asked for its hash).</summary>
    internal bool HasInterior => _interior is not null;

    /// <summary>The slots' hashes, then the kept interior hashes, into <paramref name="destination"/>.</summary>
    internal void CopyHashesTo(Span<Hash256> destination)
    {
        _children.CopyTo(destination);
        (_interior ?? throw new InvalidOperationException("the page's inner hashes are not computed")).CopyTo(destination[_children.Length..]);
    }

    /// <summary>Bit n set (n 1-15): inner node n is an interior node (two or more keys under it), so its hash is kept.</summary>
    internal static int InteriorMask(ushort occupied, ushort leaves)
    {
        var mask = 0;
        for (var node = 1; node < SlotCount; node++)
        {
            mask |= Collapsed(node, occupied, leaves, out _) == InnerKind.Internal ? 1 << node : 0;
        }

        return mask;
    }

    /// <summary>
    /// Inner node <paramref name="node"/>'s hash (1-15, heap order; 16-31 are the slots): empty, a lone leaf's hash, or a
    /// kept interior hash (computed for all of them at the first ask of a page read from a store).
    /// </summary>
    public Hash256 Inner(int node, CryptoSuite suite)
    {
        if (node >= SlotCount)
        {
            return Child(node - SlotCount);
        }

        switch (Collapsed(node, Occupied, Leaves, out var slot))
        {
            case InnerKind.Empty:
                return Hash256.Zero;
            case InnerKind.SingleLeaf:
                return Child(slot);
        }

        var interior = _interior ??= ComputeInterior(suite);
        return interior[BitOperations.PopCount((uint)_interiorMask & ((1u << node) - 1))];
    }

    /// <summary>The 16 slots' hashes (zero where empty) and the 16 inner hashes (heap order, 0 unused) into the caller's buffers.</summary>
    internal void CopyTo(CryptoSuite suite, Span<Hash256> slots, Span<Hash256> inner) =>
        Expand(Occupied, _interiorMask, _children, _interior ??= ComputeInterior(suite), slots, inner);

    /// <summary>
    /// A page's stored form (its occupied slots' hashes and its kept interior hashes, in order) spread into 16 slots and
    /// 16 inner hashes: an inner node not kept is empty or its lone leaf's hash.
    /// </summary>
    internal static void Expand(ushort occupied, int interiorMask, ReadOnlySpan<Hash256> children, ReadOnlySpan<Hash256> interior, Span<Hash256> slots, Span<Hash256> inner)
    {
        for (int slot = 0, k = 0; slot < SlotCount; slot++)
        {
            slots[slot] = ((occupied >> slot) & 1) != 0 ? children[k++] : Hash256.Zero;
        }

        for (int node = 1, k = 0; node < SlotCount; node++)
        {
            if (((interiorMask >> node) & 1) != 0)
            {
                inner[node] = interior[k++];
                continue;
            }

            var under = occupied & SlotMasks[node];
            inner[node] = under == 0 ? Hash256.Zero : slots[BitOperations.TrailingZeroCount(under)]; // empty, or one leaf
        }
    }

    private Hash256[] ComputeInterior(CryptoSuite suite) => Interior(ComputeInner(suite));

    private Hash256[] Interior(Hash256[] inner)
    {
        var mask = _interiorMask;
        var interior = new Hash256[BitOperations.PopCount((uint)mask)];
        for (int node = 1, k = 0; node < SlotCount; node++)
        {
            if (((mask >> node) & 1) != 0)
            {
                interior[k++] = inner[node];
            }
        }

        return interior;
    }

    public bool IsOccupied(int slot) => ((Occupied >> slot) & 1) != 0;

    public bool IsLeaf(int slot) => ((Leaves >> slot) & 1) != 0;

    /// <summary>The hash in <paramref name="slot"/>, zero when empty.</summary>
    public Hash256 Child(int slot) => IsOccupied(slot) ? _children[BitOperations.PopCount((uint)Occupied & ((1u << slot) - 1))] : Hash256.Zero;

    /// <summary>The page's own hash: the hash of its binary subtree. Recomputed from the slots (what a store checks a read against).</summary>
    public override Hash256 ComputeHash(CryptoSuite suite)
    {
        var inner = ComputeInner(suite);
        _interior ??= Interior(inner);
        return inner[1];
    }

    private Hash256[] ComputeInner(CryptoSuite suite)
    {
        var inner = new Hash256[SlotCount];
        Span<Hash256> slots = stackalloc Hash256[SlotCount];
        for (var i = 0; i < SlotCount; i++)
        {
            slots[i] = Child(i);
        }

        for (var node = SlotCount - 1; node >= 1; node--)
        {
            inner[node] = Collapsed(node, Occupied, Leaves, out var slot) switch
            {
                InnerKind.Empty => Hash256.Zero,
                InnerKind.SingleLeaf => slots[slot],
                _ => StateHashing.Internal(suite, Value(inner, slots, 2 * node), Value(inner, slots, (2 * node) + 1)),
            };
        }

        return inner;
    }

    /// <summary>Node <paramref name="index"/>'s hash in heap order, slots at 16-31.</summary>
    internal static Hash256 Value(ReadOnlySpan<Hash256> inner, ReadOnlySpan<Hash256> slots, int index) => index >= SlotCount ? slots[index - SlotCount] : inner[index];

    internal enum InnerKind
    {
        Empty,
        SingleLeaf,
        Internal,
    }

    /// <summary>
    /// What inner node <paramref name="node"/> (1-15) is under the collapsing rule: nothing under it, a single key (that
    /// leaf's hash, <paramref name="slot"/> saying where), or an interior node to hash.
    /// </summary>
    internal static InnerKind Collapsed(int node, ushort occupied, ushort leaves, out int slot)
    {
        var mask = SlotMask(node);
        var under = occupied & mask;
        slot = -1;
        if (under == 0)
        {
            return InnerKind.Empty;
        }

        if (BitOperations.IsPow2(under) && (leaves & under) != 0)
        {
            slot = BitOperations.TrailingZeroCount(under);
            return InnerKind.SingleLeaf;
        }

        return InnerKind.Internal;
    }

    /// <summary>The slots under inner node <paramref name="node"/> (1-15) as a bit mask.</summary>
    internal static int SlotMask(int node) => SlotMasks[node];

    // Node n's slots: n = 1 all sixteen, 2-3 the halves, 4-7 the quarters, 8-15 the pairs.
    private static ReadOnlySpan<ushort> SlotMasks =>
    [
        0, 0xFFFF, 0x00FF, 0xFF00, 0x000F, 0x00F0, 0x0F00, 0xF000,
        0x0003, 0x000C, 0x0030, 0x00C0, 0x0300, 0x0C00, 0x3000, 0xC000,
    ];

    public override int EncodedLength => HeaderLength + (_children.Length * Hash256.Size);

    public override byte[] Encode()
    {
        var encoded = new byte[EncodedLength];
        EncodeTo(encoded);
        return encoded;
    }

    public override int EncodeTo(Span<byte> destination)
    {
        destination[0] = Prefix;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], Occupied);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], Leaves);
        for (var i = 0; i < _children.Length; i++)
        {
            _children[i].CopyTo(destination[(HeaderLength + (i * Hash256.Size))..]);
        }

        return EncodedLength;
    }

    /// <summary>The page encoded in <paramref name="encoded"/> (which starts with <see cref="Prefix"/>), or null when it is not a valid page.</summary>
    internal static StatePageNode? TryDecode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < HeaderLength || encoded[0] != Prefix)
        {
            return null;
        }

        var occupied = BinaryPrimitives.ReadUInt16BigEndian(encoded[1..]);
        var leaves = BinaryPrimitives.ReadUInt16BigEndian(encoded[3..]);
        var count = BitOperations.PopCount(occupied);
        if (!IsValid(occupied, leaves) || encoded.Length != HeaderLength + (count * Hash256.Size))
        {
            return null;
        }

        var children = new Hash256[count];
        for (var i = 0; i < count; i++)
        {
            children[i] = new Hash256(encoded.Slice(HeaderLength + (i * Hash256.Size), Hash256.Size));
            if (children[i].IsZero)
            {
                return null; // an occupied slot is never the empty hash
            }
        }

        return new StatePageNode(occupied, leaves, children, null, InteriorMask(occupied, leaves));
    }

    // Two or more keys: not empty, and not a single occupied slot holding one leaf; leaves only where occupied.
    private static bool IsValid(ushort occupied, ushort leaves) =>
        occupied != 0 && (leaves & ~occupied) == 0 && !(BitOperations.IsPow2((uint)occupied) && leaves == occupied);
}
