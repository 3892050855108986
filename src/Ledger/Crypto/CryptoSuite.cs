using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A chain's cryptography, chosen at genesis and fixed for its life (docs/crypto.md, "Crypto suites"): the hash of
/// transaction ids, the structured-data digest, the state tree and header hashes; the hash of the RFC 9162 history
/// tree; the signature scheme and its wire form; and how an address follows from a public key.
/// <list type="table">
/// <item><term><see cref="Eth"/></term><description>Keccak-256; SHA-256 for the history tree; recoverable secp256k1,
/// 65 bytes r‖s‖v; address = last 20 bytes of Keccak-256(x‖y). What ethers, wallets and the EVM speak.</description></item>
/// <item><term><see cref="Gm"/></term><description>SM3 for every hash, the history tree included; SM2 with the
/// GM/T 0009 identifier, 128 bytes r‖s‖x‖y; address = last 20 bytes of SM3(x‖y). What 密评 (GB/T 39786,
/// GM/T 0111) asks for.</description></item>
/// </list>
/// Implementations are immutable and thread-safe.
/// </summary>
public abstract class CryptoSuite
{
    private const byte HistoryLeafPrefix = 0x00;
    private const byte HistoryNodePrefix = 0x01;

    private static readonly Lazy<CryptoSuite> SharedEth = new(() => new EthCryptoSuite(Secp256k1.Default));
    private static readonly Lazy<CryptoSuite> SharedGm = new(() => new GmCryptoSuite(Sm2.Default));

    private protected CryptoSuite(ISignatureScheme signatures)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        Signatures = signatures;
    }

    /// <summary>The eth suite on the process's secp256k1 (native libsecp256k1 when it loads).</summary>
    public static CryptoSuite Eth => SharedEth.Value;

    /// <summary>The gm suite on the process's SM2 (native libcrypto when it loads) with the default identifier.</summary>
    public static CryptoSuite Gm => SharedGm.Value;

    public abstract CryptoSuiteId Id { get; }

    /// <summary><c>eth</c> or <c>gm</c>, as genesis and receipts write it.</summary>
    public string Name => Id.ToName();

    /// <summary>Signing, checking and key handling of this suite.</summary>
    public ISignatureScheme Signatures { get; }

    /// <summary>Bytes of a signature's wire form: 65 (eth) or 128 (gm).</summary>
    public int SignatureSize => Signature.SizeOf(Id);

    /// <summary>The empty history tree's root, H("").</summary>
    public abstract Hash256 EmptyHistoryRoot { get; }

    /// <summary>The eth or gm suite with the process's default implementations.</summary>
    public static CryptoSuite For(CryptoSuiteId id) => id switch
    {
        CryptoSuiteId.Eth => Eth,
        CryptoSuiteId.Gm => Gm,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "unknown crypto suite"),
    };

    /// <summary>
    /// The suite <paramref name="id"/> on the process's implementations (native when they load): the shared instance
    /// when there is no logger and the identifier is the default, else a new one that logs which implementation it chose.
    /// </summary>
    public static CryptoSuite Create(CryptoSuiteId id, Microsoft.Extensions.Logging.ILogger? logger, string sm2DistinguishingId = Sm2.DefaultDistinguishingId) => id switch
    {
        CryptoSuiteId.Eth => logger is null ? Eth : Over(Secp256k1.Create(logger)),
        CryptoSuiteId.Gm when logger is null && sm2DistinguishingId == Sm2.DefaultDistinguishingId => Gm,
        CryptoSuiteId.Gm => Over(Sm2.Create(logger, sm2DistinguishingId)),
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "unknown crypto suite"),
    };

    /// <summary>A suite over the given scheme: eth for an <see cref="ISecp256k1"/>, gm for an <see cref="ISm2"/>.</summary>
    public static CryptoSuite Over(ISignatureScheme signatures) => signatures switch
    {
        ISecp256k1 secp256k1 => new EthCryptoSuite(secp256k1),
        ISm2 sm2 => new GmCryptoSuite(sm2),
        null => throw new ArgumentNullException(nameof(signatures)),
        _ => throw new ArgumentException($"no crypto suite for the {signatures.Suite} scheme {signatures.GetType().Name}", nameof(signatures)),
    };

    /// <summary>The suite's hash (Keccak-256 or SM3) of <paramref name="data"/> into 32 bytes.</summary>
    public abstract void Hash(ReadOnlySpan<byte> data, Span<byte> output32);

    /// <summary>The suite's hash (Keccak-256 or SM3).</summary>
    public Hash256 Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> output = stackalloc byte[Hash256.Size];
        Hash(data, output);
        return new Hash256(output);
    }

    /// <summary>The suite's hash of the UTF-8 bytes of <paramref name="text"/> (an EIP-712 <c>string</c>) into 32 bytes, encoded on the stack when short.</summary>
    public void HashUtf8(ReadOnlySpan<char> text, Span<byte> output32)
    {
        const int StackBytes = 256;
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var utf8 = length <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        var written = Encoding.UTF8.GetBytes(text, utf8);
        Hash(utf8[..written], output32);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The suite's hash of the UTF-8 bytes of <paramref name="text"/>.</summary>
    public Hash256 HashUtf8(ReadOnlySpan<char> text)
    {
        Span<byte> output = stackalloc byte[Hash256.Size];
        HashUtf8(text, output);
        return new Hash256(output);
    }

    /// <summary>
    /// The suite's hash of many independent messages: message <c>i</c> is <paramref name="lengths"/>[i] bytes of
    /// <paramref name="data"/> from <paramref name="starts"/>[i], its hash goes to <paramref name="outputs"/>[i]. The same
    /// answers as <see cref="Hash(ReadOnlySpan{byte})"/> one by one; a suite may compute several side by side.
    /// </summary>
    public virtual void HashMany(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs)
    {
        if (starts.Length != lengths.Length || outputs.Length < starts.Length)
        {
            throw new ArgumentException("one start, one length and one output per message");
        }

        for (var i = 0; i < starts.Length; i++)
        {
            outputs[i] = Hash(data.Slice(starts[i], lengths[i]));
        }
    }

    /// <summary>The history tree's hash H (SHA-256 or SM3) of <paramref name="data"/> into 32 bytes.</summary>
    public abstract void HistoryHash(ReadOnlySpan<byte> data, Span<byte> output32);

    /// <summary>RFC 9162 §2.1.1: H(0x00 ‖ leaf).</summary>
    public Hash256 HistoryLeafHash(ReadOnlySpan<byte> leaf)
    {
        const int StackLimit = 256;
        var length = 1 + leaf.Length;
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer[0] = HistoryLeafPrefix;
        leaf.CopyTo(buffer[1..]);
        Span<byte> digest = stackalloc byte[Hash256.Size];
        HistoryHash(buffer[..length], digest);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return new Hash256(digest);
    }

    /// <summary>RFC 9162 §2.1.1: H(0x01 ‖ left ‖ right).</summary>
    public Hash256 HistoryNodeHash(in Hash256 left, in Hash256 right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash256.Size)];
        buffer[0] = HistoryNodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Hash256.Size)..]);
        Span<byte> digest = stackalloc byte[Hash256.Size];
        HistoryHash(buffer, digest);
        return new Hash256(digest);
    }

    /// <summary>
    /// The structured-data digest of the EIP-712-shaped encoding: H(0x19 ‖ 0x01 ‖ domainSeparator ‖ structHash),
    /// with the domain separator and struct hash computed under the same suite's hash.
    /// </summary>
    public Hash256 StructuredDigest(in Hash256 domainSeparator, in Hash256 structHash)
    {
        Span<byte> preimage = stackalloc byte[2 + (2 * Hash256.Size)];
        preimage[0] = 0x19;
        preimage[1] = 0x01;
        domainSeparator.CopyTo(preimage[2..]);
        structHash.CopyTo(preimage[(2 + Hash256.Size)..]);
        return Hash(preimage);
    }

    /// <summary>The address of a 64-byte public key x‖y under this suite.</summary>
    public abstract Address AddressOf(ReadOnlySpan<byte> publicKey64);

    /// <summary>Who signed <paramref name="digest"/> (recovered for eth, the carried key for gm); a signature of the other suite is <see cref="SignatureCheck.WrongSuite"/>.</summary>
    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer) => Signatures.Recover(digest, signature, out signer);

    /// <summary>Whether <paramref name="expectedSigner"/> signed <paramref name="digest"/> in this suite.</summary>
    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner) => Signatures.Verify(digest, signature, expectedSigner);

    public override string ToString() => $"{Name} ({Signatures.Name})";
}

/// <summary>The eth suite: Keccak-256, SHA-256 history tree, recoverable secp256k1.</summary>
public sealed class EthCryptoSuite(ISecp256k1 secp256k1) : CryptoSuite(secp256k1)
{
    private static readonly Hash256 EmptySha256 = new(SHA256.HashData(ReadOnlySpan<byte>.Empty));

    public override CryptoSuiteId Id => CryptoSuiteId.Eth;

    public override Hash256 EmptyHistoryRoot => EmptySha256;

    public ISecp256k1 Secp256k1 => secp256k1;

    public override void Hash(ReadOnlySpan<byte> data, Span<byte> output32) => Keccak256.Hash(data, output32);

    /// <summary>Several Keccak-256 states side by side where the machine has AVX-512 or AVX2 (<see cref="Keccak256Many"/>).</summary>
    public override void HashMany(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<Hash256> outputs) =>
        Keccak256Many.HashMany(data, starts, lengths, outputs);

    public override void HistoryHash(ReadOnlySpan<byte> data, Span<byte> output32) => SHA256.HashData(data, output32);

    public override Address AddressOf(ReadOnlySpan<byte> publicKey64) => Address.FromPublicKey(publicKey64);
}

/// <summary>The gm suite: SM3 everywhere, SM2 with the public key carried.</summary>
public sealed class GmCryptoSuite(ISm2 sm2) : CryptoSuite(sm2)
{
    private static readonly Hash256 EmptySm3 = Sm3.Hash(ReadOnlySpan<byte>.Empty);

    public override CryptoSuiteId Id => CryptoSuiteId.Gm;

    public override Hash256 EmptyHistoryRoot => EmptySm3;

    public ISm2 Sm2 => sm2;

    public override void Hash(ReadOnlySpan<byte> data, Span<byte> output32) => Sm3.Hash(data, output32);

    public override void HistoryHash(ReadOnlySpan<byte> data, Span<byte> output32) => Sm3.Hash(data, output32);

    public override Address AddressOf(ReadOnlySpan<byte> publicKey64) => global::SmartCity.Ledger.Crypto.Gm.Sm2.AddressOf(publicKey64);
}
