using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// The Merkle tree hash of RFC 6962 §2.1 / RFC 9162 §2.1 with H = SHA-256, the eth suite's history hash: a leaf
/// hashes as H(0x00 ‖ leaf), an interior node as H(0x01 ‖ left ‖ right), and the empty tree as H() (SHA-256 of the
/// empty string). Shorthand for <see cref="CryptoSuite.Eth"/>'s <see cref="CryptoSuite.HistoryLeafHash"/>,
/// <see cref="CryptoSuite.HistoryNodeHash"/> and <see cref="CryptoSuite.EmptyHistoryRoot"/>; code that serves both
/// suites takes the chain's <see cref="CryptoSuite"/> instead.
/// </summary>
public static class Rfc6962
{
    /// <summary>MTH({}) = SHA-256(""), e3b0c442…b855.</summary>
    public static Hash256 EmptyRoot => CryptoSuite.Eth.EmptyHistoryRoot;

    /// <summary>H(0x00 ‖ leaf).</summary>
    public static Hash256 LeafHash(ReadOnlySpan<byte> leaf) => CryptoSuite.Eth.HistoryLeafHash(leaf);

    /// <summary>H(0x01 ‖ left ‖ right).</summary>
    public static Hash256 NodeHash(in Hash256 left, in Hash256 right) => CryptoSuite.Eth.HistoryNodeHash(left, right);
}
