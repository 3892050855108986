using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// The hashes of the state tree, all Keccak-256 with a one-byte domain prefix so a leaf can never pass for an
/// interior node: leaf = H(0x00 ‖ key ‖ H(value)), interior = H(0x01 ‖ left ‖ right), and the empty subtree is the
/// constant 32 zero bytes (not a hash of anything, so no node can equal it).
/// </summary>
public static class StateHashing
{
    public const byte LeafPrefix = 0x00;
    public const byte InternalPrefix = 0x01;

    /// <summary>The hash of the empty subtree, and so the root of the empty state: 32 zero bytes.</summary>
    public static Hash256 Empty => Hash256.Zero;

    /// <summary>H(value).</summary>
    public static Hash256 ValueHash(ReadOnlySpan<byte> value) => Keccak256.Hash(value);

    /// <summary>H(0x00 ‖ key ‖ H(value)).</summary>
    public static Hash256 Leaf(in Hash256 key, ReadOnlySpan<byte> value)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash256.Size)];
        buffer[0] = LeafPrefix;
        key.CopyTo(buffer[1..]);
        Keccak256.Hash(value, buffer[(1 + Hash256.Size)..]);
        return Keccak256.Hash(buffer);
    }

    /// <summary>H(0x00 ‖ key ‖ valueHash).</summary>
    public static Hash256 Leaf(in Hash256 key, in Hash256 valueHash) => Hash(LeafPrefix, key, valueHash);

    /// <summary>H(0x01 ‖ left ‖ right).</summary>
    public static Hash256 Internal(in Hash256 left, in Hash256 right) => Hash(InternalPrefix, left, right);

    private static Hash256 Hash(byte prefix, in Hash256 first, in Hash256 second)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash256.Size)];
        buffer[0] = prefix;
        first.CopyTo(buffer[1..]);
        second.CopyTo(buffer[(1 + Hash256.Size)..]);
        return Keccak256.Hash(buffer);
    }
}
