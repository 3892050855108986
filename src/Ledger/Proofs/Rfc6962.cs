using System.Buffers;
using System.Security.Cryptography;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// The Merkle tree hash of RFC 6962 §2.1 / RFC 9162 §2.1 with H = SHA-256: a leaf hashes as H(0x00 ‖ leaf), an
/// interior node as H(0x01 ‖ left ‖ right), and the empty tree as H() (SHA-256 of the empty string).
/// </summary>
public static class Rfc6962
{
    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    /// <summary>MTH({}) = SHA-256(""), e3b0c442…b855.</summary>
    public static Hash256 EmptyRoot { get; } = new(SHA256.HashData(ReadOnlySpan<byte>.Empty));

    /// <summary>H(0x00 ‖ leaf).</summary>
    public static Hash256 LeafHash(ReadOnlySpan<byte> leaf)
    {
        const int StackLimit = 256;
        var length = 1 + leaf.Length;
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer[0] = LeafPrefix;
        leaf.CopyTo(buffer[1..]);
        Span<byte> digest = stackalloc byte[Hash256.Size];
        SHA256.HashData(buffer[..length], digest);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return new Hash256(digest);
    }

    /// <summary>H(0x01 ‖ left ‖ right).</summary>
    public static Hash256 NodeHash(in Hash256 left, in Hash256 right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash256.Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Hash256.Size)..]);
        Span<byte> digest = stackalloc byte[Hash256.Size];
        SHA256.HashData(buffer, digest);
        return new Hash256(digest);
    }
}
