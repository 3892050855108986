using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace SmartCity.Ledger.Crypto.Gm;

/// <summary>
/// SM2 verification on OpenSSL 3's libcrypto: <c>EVP_DigestVerifyInit</c> with SM3 and the distinguishing
/// identifier set by <c>EVP_PKEY_CTX_set1_id</c>, then one-shot <c>EVP_DigestVerify</c> over the 32-byte digest, which
/// computes Z and e = SM3(Z ‖ M) inside OpenSSL. Public keys are decoded once (<c>d2i_PUBKEY</c> of the
/// SubjectPublicKeyInfo, which also checks the point is on the curve) and kept in a bounded process-wide table, since a
/// consortium has few signers; the DER signature is built on the stack, so a verify allocates no managed memory.
/// Signing, key generation and public-key derivation go to BouncyCastle (<see cref="ManagedSm2"/>): they happen once
/// per transaction on the client and once per block on a validator, not per check.
/// </summary>
public sealed unsafe class NativeSm2 : ISm2, ISm2MessageVerifier
{
    /// <summary>Public keys kept decoded; beyond this a key is decoded and freed on each use.</summary>
    public const int KeyTableCapacity = 4096;

    /// <summary>SubjectPublicKeyInfo of an sm2p256v1 key up to the point: id-ecPublicKey, curve 1.2.156.10197.1.301, 0x04.</summary>
    private static ReadOnlySpan<byte> SpkiPrefix =>
    [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
        0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D, 0x03, 0x42, 0x00, 0x04,
    ];

    private static readonly ConcurrentDictionary<(Hash256 X, Hash256 Y), nint> Keys = new();

    private readonly LibCrypto _lib;
    private readonly ManagedSm2 _managed;
    private readonly byte* _id;
    private readonly int _idLength;

    private NativeSm2(LibCrypto lib, byte[] distinguishingId)
    {
        _lib = lib;
        _managed = new ManagedSm2(distinguishingId);
        _idLength = distinguishingId.Length;
        _id = (byte*)NativeMemory.Alloc((nuint)_idLength);
        distinguishingId.CopyTo(new Span<byte>(_id, _idLength));
    }

    /// <summary>Binds an instance and proves it on a fresh signature, so a libcrypto that decodes SM2 keys as plain EC (and would check ECDSA) is never used.</summary>
    internal static NativeSm2? TryCreate(LibCrypto lib, byte[] distinguishingId, out string reason)
    {
        var native = new NativeSm2(lib, distinguishingId);
        Span<byte> key = stackalloc byte[32];
        Sm2.GeneratePrivateKey(key);
        var digest = Sm3.Hash("SmartCity.Ledger SM2 self-test"u8);
        var signature = native._managed.Sign(digest, key);
        if (native.Recover(digest, signature, out var signer) != SignatureCheck.Ok || signer != native._managed.GetAddress(key))
        {
            reason = $"{LibCrypto.LibraryName} did not verify an SM2 signature BouncyCastle made (no SM2 in its default provider?)";
            return null;
        }

        reason = "loaded";
        return native;
    }

    public string Name => $"native ({LibCrypto.LibraryName})";

    public CryptoSuiteId Suite => CryptoSuiteId.Gm;

    public ReadOnlySpan<byte> DistinguishingId => new(_id, _idLength);

    public void GeneratePrivateKey(Span<byte> privateKey) => Sm2.GeneratePrivateKey(privateKey);

    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => Sm2.IsValidPrivateKey(privateKey);

    public void GetPublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey64) => _managed.GetPublicKey(privateKey, publicKey64);

    public Address GetAddress(ReadOnlySpan<byte> privateKey) => _managed.GetAddress(privateKey);

    public Signature Sign(in Hash256 digest, ReadOnlySpan<byte> privateKey) => _managed.Sign(digest, privateKey);

    public SignatureCheck Recover(in Hash256 digest, in Signature signature, out Address signer)
        => Sm2.RecoverBy(this, digest, signature, out signer);

    /// <summary>Whether r‖s verifies over any message M under the carried key (false for a point off the curve).</summary>
    public bool VerifyMessage(ReadOnlySpan<byte> message, in Signature signature)
    {
        var key = AcquireKey(signature.PublicKey, out var owned);
        if (key == 0)
        {
            return false;
        }

        try
        {
            Span<byte> der = stackalloc byte[72];
            var length = EncodeDer(signature.R, signature.S, der);
            return VerifyDer(key, message, der[..length]);
        }
        finally
        {
            if (owned)
            {
                _lib.PKeyFree(key);
            }
        }
    }

    public SignatureCheck Verify(in Hash256 digest, in Signature signature, in Address expectedSigner) => Sm2.VerifyBy(this, digest, signature, expectedSigner);

    private bool VerifyDer(nint key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> der)
    {
        var mdContext = _lib.MdCtxNew();
        var keyContext = _lib.PKeyCtxNew(key, 0);
        var ok = false;
        if (mdContext != 0 && keyContext != 0 && _lib.PKeyCtxSet1Id(keyContext, _id, _idLength) == 1)
        {
            _lib.MdCtxSetPKeyCtx(mdContext, keyContext);
            fixed (byte* s = der)
            fixed (byte* m = message)
            {
                ok = _lib.DigestVerifyInit(mdContext, null, _lib.Sm3, 0, key) == 1
                    && _lib.DigestVerify(mdContext, s, (nuint)der.Length, m, (nuint)message.Length) == 1;
            }
        }

        // EVP_MD_CTX_set_pkey_ctx leaves the key context to its owner: free the digest context first, then it.
        if (mdContext != 0)
        {
            _lib.MdCtxFree(mdContext);
        }

        if (keyContext != 0)
        {
            _lib.PKeyCtxFree(keyContext);
        }

        if (!ok)
        {
            _lib.ErrClearError();
        }

        return ok;
    }

    /// <summary>The decoded key for x‖y from the table, or decoded now (0 when the point is not on the curve).</summary>
    private nint AcquireKey(ReadOnlySpan<byte> publicKey64, out bool owned)
    {
        var id = (new Hash256(publicKey64[..32]), new Hash256(publicKey64[32..]));
        if (Keys.TryGetValue(id, out var cached))
        {
            owned = false;
            return cached;
        }

        Span<byte> spki = stackalloc byte[SpkiPrefix.Length + 64];
        SpkiPrefix.CopyTo(spki);
        publicKey64.CopyTo(spki[SpkiPrefix.Length..]);
        nint key;
        fixed (byte* p = spki)
        {
            var cursor = p;
            key = _lib.D2iPubKey(0, &cursor, spki.Length);
        }

        if (key == 0)
        {
            _lib.ErrClearError();
            owned = false;
            return 0;
        }

        if (Keys.Count < KeyTableCapacity && Keys.TryAdd(id, key))
        {
            owned = false;
            return key;
        }

        owned = true;
        return key;
    }

    /// <summary>DER SEQUENCE { INTEGER r, INTEGER s } of two 32-byte big-endian numbers; at most 72 bytes.</summary>
    internal static int EncodeDer(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, Span<byte> output)
    {
        var at = 2;
        at += EncodeInteger(r, output[at..]);
        at += EncodeInteger(s, output[at..]);
        output[0] = 0x30;
        output[1] = (byte)(at - 2);
        return at;
    }

    private static int EncodeInteger(ReadOnlySpan<byte> value, Span<byte> output)
    {
        var start = value.IndexOfAnyExcept((byte)0);
        var magnitude = start < 0 ? value[^1..] : value[start..];
        var pad = (magnitude[0] & 0x80) != 0 ? 1 : 0;
        output[0] = 0x02;
        output[1] = (byte)(magnitude.Length + pad);
        output[2] = 0;
        magnitude.CopyTo(output[(2 + pad)..]);
        return 2 + pad + magnitude.Length;
    }
}
