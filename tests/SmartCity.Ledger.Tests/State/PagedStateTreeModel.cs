using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Tests.State;

/// <summary>
/// A reference model of the state tree <em>updated</em> a page at a time, as the plan in docs/state-pages.md would store
/// it: a page is the binary subtree between depths 4j and 4j + 4, held as 16 child slots by the next four key bits (empty,
/// a leaf, or the page below, which always holds two or more keys), and its hash is the binary tree over those slots, a
/// range holding a single leaf and nothing else being that leaf's hash. Pages are immutable (a write copies the pages on
/// its path), so every version stays readable from its root slot. Kept simple and slow on purpose: the tests run it
/// beside <see cref="StateTree"/> to show that batches applied page by page give the same roots, and count the pages a
/// batch stores (<see cref="PagesNotIn"/>) against the binary nodes it creates (the plan's premise: about four times fewer stored entries).
/// </summary>
internal sealed class PagedStateTreeModel(CryptoSuite suite)
{
    /// <summary>What a subtree at a depth 4j is: nothing, a single key, or a page.</summary>
    internal readonly record struct Slot(Hash256 Hash, int Keys, Hash256 LeafKey, byte[]? LeafValue, Page? Page)
    {
        public static Slot Empty => default;

        public bool IsLeaf => LeafValue is not null;
    }

    internal sealed class Page(Slot[] children, Hash256 hash, int keys)
    {
        public Slot[] Children { get; } = children;

        public Hash256 Hash { get; } = hash;

        public int Keys { get; } = keys;
    }

    /// <summary>
    /// The pages of <paramref name="version"/> that <paramref name="before"/> does not hold: what a store would write for
    /// the batch between them (a page made and replaced again within the batch is not counted).
    /// </summary>
    public static int PagesNotIn(Slot version, Slot before)
    {
        var old = new HashSet<Page>(ReferenceEqualityComparer.Instance);
        Collect(before, old);
        return Count(version, old);

        static void Collect(Slot slot, HashSet<Page> into)
        {
            if (slot.Page is { } page && into.Add(page))
            {
                foreach (var child in page.Children)
                {
                    Collect(child, into);
                }
            }
        }

        static int Count(Slot slot, HashSet<Page> old) =>
            slot.Page is not { } page || old.Contains(page) ? 0 : 1 + page.Children.Sum(child => Count(child, old));
    }

    /// <summary>The version <paramref name="root"/> with <paramref name="writes"/> applied (null deletes), the last write of a key winning.</summary>
    public Slot Apply(Slot root, IEnumerable<StateWrite> writes)
    {
        foreach (var write in writes)
        {
            root = Set(root, 0, write.Key, write.Value);
        }

        return root;
    }

    /// <summary>The version holding exactly <paramref name="state"/>, its pages built from the key set (a bulk load).</summary>
    public Slot FromState(IReadOnlyDictionary<Hash256, byte[]> state) => Build([.. state], 0);

    private Slot Build(List<KeyValuePair<Hash256, byte[]>> entries, int depth)
    {
        if (entries.Count <= 1)
        {
            return entries.Count == 0 ? Slot.Empty : Leaf(entries[0].Key, entries[0].Value);
        }

        var children = new Slot[16];
        foreach (var group in entries.GroupBy(e => Nibble(e.Key, depth)))
        {
            children[group.Key] = Build([.. group], depth + 4);
        }

        return MakePage(children);
    }

    /// <summary>The value of <paramref name="key"/> in the version <paramref name="root"/>, or null.</summary>
    public static byte[]? Get(Slot root, Hash256 key)
    {
        for (var depth = 0; ; depth += 4)
        {
            if (root.IsLeaf)
            {
                return root.LeafKey == key ? root.LeafValue : null;
            }

            if (root.Page is not { } page)
            {
                return null;
            }

            root = page.Children[Nibble(key, depth)];
        }
    }

    /// <summary>
    /// The proof of <paramref name="key"/> in the version <paramref name="root"/>, made from pages: within a page the path
    /// descends its binary levels (the sibling at each is the binary tree over the other half of the current range of
    /// slots) until a range holds one key (that leaf, lifted to this depth), none, or is a single page to enter.
    /// </summary>
    public StateProof Prove(Slot root, Hash256 key)
    {
        var siblings = new List<Hash256>();
        var slot = root;
        for (var depth = 0; ; depth += 4)
        {
            if (slot.IsLeaf)
            {
                return LeafProof(slot, siblings);
            }

            if (slot.Page is not { } page)
            {
                return new StateProof(null, [.. siblings]);
            }

            var (start, width) = (0, 16);
            for (var level = depth; width > 1; level++)
            {
                var half = width / 2;
                var right = key.Bit(level) == 1;
                siblings.Add(Inner(page.Children, right ? start : start + half, half));
                start = right ? start + half : start;
                width = half;
                var keys = page.Children.Skip(start).Take(width).Sum(c => c.Keys);
                if (keys == 0)
                {
                    return new StateProof(null, [.. siblings]);
                }

                if (keys == 1)
                {
                    return LeafProof(page.Children.Skip(start).Take(width).Single(c => c.Keys == 1), siblings);
                }
            }

            slot = page.Children[start];
        }
    }

    private StateProof LeafProof(Slot leaf, List<Hash256> siblings) =>
        new(new StateProofLeaf(leaf.LeafKey, StateHashing.ValueHash(suite, leaf.LeafValue)), [.. siblings]);

    private Slot Set(Slot slot, int depth, Hash256 key, byte[]? value)
    {
        if (slot.Page is { } page)
        {
            var at = Nibble(key, depth);
            var child = Set(page.Children[at], depth + 4, key, value);
            return child == page.Children[at] ? slot : Normalize(With(page.Children, at, child));
        }

        if (slot.IsLeaf && slot.LeafKey != key)
        {
            if (value is null)
            {
                return slot; // deleting a key that is not there
            }

            // Two keys where there was one: a page at this depth holding both (deeper pages where they share bits).
            var children = new Slot[16];
            children[Nibble(slot.LeafKey, depth)] = slot;
            var at = Nibble(key, depth);
            children[at] = Set(children[at], depth + 4, key, value);
            return MakePage(children);
        }

        return value is null ? Slot.Empty : Leaf(key, value);
    }

    private static Slot[] With(Slot[] children, int at, Slot child)
    {
        var copy = (Slot[])children.Clone();
        copy[at] = child;
        return copy;
    }

    // A page left with no key is nothing; with one, that key's leaf (child pages always hold two or more).
    private Slot Normalize(Slot[] children)
    {
        var keys = children.Sum(c => c.Keys);
        return keys switch
        {
            0 => Slot.Empty,
            1 => children.Single(c => c.Keys == 1),
            _ => MakePage(children),
        };
    }

    private Slot MakePage(Slot[] children)
    {
        var page = new Page(children, Inner(children, 0, 16), children.Sum(c => c.Keys));
        return new Slot(page.Hash, page.Keys, default, null, page);
    }

    private Slot Leaf(Hash256 key, byte[] value) => new(StateHashing.Leaf(suite, key, value), 1, key, value, null);

    // The binary tree over children[start..start + width): empty, a lone leaf's hash, a single page's hash, or an
    // interior node over the two halves.
    private Hash256 Inner(Slot[] children, int start, int width)
    {
        var keys = 0;
        var last = -1;
        for (var i = start; i < start + width; i++)
        {
            if (children[i].Keys > 0)
            {
                keys += children[i].Keys;
                last = i;
            }
        }

        if (keys == 0)
        {
            return StateHashing.Empty;
        }

        if (width == 1 || keys == 1)
        {
            return children[last].Hash;
        }

        var half = width / 2;
        return StateHashing.Internal(suite, Inner(children, start, half), Inner(children, start + half, half));
    }

    private static int Nibble(Hash256 key, int depth) => (key.Bit(depth) << 3) | (key.Bit(depth + 1) << 2) | (key.Bit(depth + 2) << 1) | key.Bit(depth + 3);
}
