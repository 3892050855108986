using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// The hashes of the state tree, all the chain suite's hash H (Keccak-256 for eth, SM3 for gm) with a one-byte domain
/// prefix so a leaf can never pass for an interior node: leaf = H(0x00 ‖ key ‖ H(value)), interior =
/// H(0x01 ‖ left ‖ right), and the empty subtree is the constant 32 zero bytes (not a hash of anything, so no node can
/// equal it).
/// </summary>
public static class StateHashing
{
    public const byte LeafPrefix = 0x00;
    public const byte InternalPrefix = 0x01;

    /// <summary>The hash of the empty subtree, and so the root of the empty state: 32 zero bytes.</summary>
    public static Hash256 Empty => Hash256.Zero;

    /// <summary>H(value).</summary>
    public static Hash256 ValueHash(CryptoSuite suite, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return suite.Hash(value);
    }

    /// <summary>H(0x00 ‖ key ‖ H(value)).</summary>
    public static Hash256 Leaf(CryptoSuite suite, in Hash256 key, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(suite);
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash256.Size)];
        buffer[0] = LeafPrefix;
        key.CopyTo(buffer[1..]);
        suite.Hash(value, buffer[(1 + Hash256.Size)..]);
        return suite.Hash(buffer);
    }

    /// <summary>H(0x00 ‖ key ‖ valueHash).</summary>
    public static Hash256 Leaf(CryptoSuite suite, in Hash256 key, in Hash256 valueHash) => Hash(suite, LeafPrefix, key, valueHash);

    /// <summary>H(0x01 ‖ left ‖ right).</summary>
    public static Hash256 Internal(CryptoSuite suite, in Hash256 left, in Hash256 right) => Hash(suite, InternalPrefix, left, right);

    private static Hash256 Hash(CryptoSuite suite, byte prefix, in Hash256 first, in Hash256 second)
    {
        ArgumentNullException.ThrowIfNull(suite);
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash256.Size)];
        buffer[0] = prefix;
        first.CopyTo(buffer[1..]);
        second.CopyTo(buffer[(1 + Hash256.Size)..]);
        return suite.Hash(buffer);
    }
}
