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
}
