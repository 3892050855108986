using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.State;

/// <summary>
/// The state root computed from its definition over the whole key set, with nothing kept between calls:
/// empty = 32 zero bytes, one key = H(0x00 ‖ key ‖ H(value)), more = H(0x01 ‖ left ‖ right) split on
/// the key bit at the current depth, H the suite's hash.
/// </summary>
internal static class StateTreeReference
{
    public static Hash256 Root(IReadOnlyDictionary<Hash256, byte[]> state, CryptoSuite suite) => Root(state.ToList(), 0, suite);

    private static Hash256 Root(List<KeyValuePair<Hash256, byte[]>> entries, int depth, CryptoSuite suite)
    {
        if (entries.Count == 0)
        {
            return default;
        }

        if (entries.Count == 1)
        {
            var (key, value) = entries[0];
            return suite.Hash([0x00, .. key.Bytes, .. suite.Hash(value).Bytes]);
        }

        var left = Root(entries.Where(e => e.Key.Bit(depth) == 0).ToList(), depth + 1, suite);
        var right = Root(entries.Where(e => e.Key.Bit(depth) == 1).ToList(), depth + 1, suite);
        return suite.Hash([0x01, .. left.Bytes, .. right.Bytes]);
    }

    /// <summary>
    /// The same root computed a nibble at a time, as a store of four-level pages would (docs/state-pages.md): the keys at
    /// a depth 4j are split into 16 children by their next four bits (empty, a single key's leaf, or the page below),
    /// and the page's hash is the binary tree over those children, a range holding one leaf and nothing else being that
    /// leaf's hash.
    /// </summary>
    public static Hash256 RootByPages(IReadOnlyDictionary<Hash256, byte[]> state, CryptoSuite suite) => Page(state.ToList(), 0, suite);

    private static Hash256 Page(List<KeyValuePair<Hash256, byte[]>> entries, int depth, CryptoSuite suite)
    {
        if (entries.Count <= 1)
        {
            return Root(entries, depth, suite); // empty, or a single key's leaf: no page
        }

        var children = new (Hash256 Hash, int Keys)[16];
        foreach (var group in entries.GroupBy(e => Nibble(e.Key, depth)))
        {
            var members = group.ToList();
            children[group.Key] = (Page(members, depth + 4, suite), members.Count);
        }

        return Inner(children, 0, 16, suite);
    }

    private static Hash256 Inner((Hash256 Hash, int Keys)[] children, int start, int width, CryptoSuite suite)
    {
        var keys = children.Skip(start).Take(width).Sum(c => c.Keys);
        if (keys == 0)
        {
            return default;
        }

        if (width == 1 || keys == 1)
        {
            return children.Skip(start).Take(width).First(c => c.Keys > 0).Hash; // a page below, or a lone leaf at any depth
        }

        var half = width / 2;
        return suite.Hash([0x01, .. Inner(children, start, half, suite).Bytes, .. Inner(children, start + half, half, suite).Bytes]);
    }

    private static int Nibble(Hash256 key, int depth) => (key.Bit(depth) << 3) | (key.Bit(depth + 1) << 2) | (key.Bit(depth + 2) << 1) | key.Bit(depth + 3);
}
