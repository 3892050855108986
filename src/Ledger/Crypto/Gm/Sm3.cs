using Org.BouncyCastle.Crypto.Digests;

namespace SmartCity.Ledger.Crypto.Gm;

/// <summary>
/// SM3 (GB/T 32905-2016, GM/T 0004-2012), the gm suite's hash: through OpenSSL's libcrypto when it loads (the native
/// path), otherwise BouncyCastle's <see cref="SM3Digest"/>. Both give the same 32 bytes; the choice is made once per
/// process. The managed path reuses one digest per thread, so neither path allocates per call beyond the result.
/// </summary>
public static class Sm3
{
    private static readonly LibCrypto? Native = LibCrypto.TryGet(out _);

    [ThreadStatic]
    private static SM3Digest? _managed;

    /// <summary>"native (libcrypto.so.3)" or "managed (BouncyCastle)".</summary>
    public static string Implementation => Native is null ? "managed (BouncyCastle)" : $"native ({LibCrypto.LibraryName})";

    public static Hash256 Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> output = stackalloc byte[Hash256.Size];
        Hash(data, output);
        return new Hash256(output);
    }

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> output32)
    {
        if (output32.Length < Hash256.Size)
        {
            throw new ArgumentException("SM3 writes 32 bytes", nameof(output32));
        }

        if (Native is null || !Native.TrySm3(data, output32))
        {
            HashManaged(data, output32);
        }
    }

    /// <summary>BouncyCastle's SM3, whatever the process chose: the tests compare the two paths.</summary>
    internal static void HashManaged(ReadOnlySpan<byte> data, Span<byte> output32)
    {
        var digest = _managed ??= new SM3Digest();
        digest.Reset();
        digest.BlockUpdate(data);
        digest.DoFinal(output32);
    }

    /// <summary>OpenSSL's SM3; false when libcrypto is not available.</summary>
    internal static bool TryHashNative(ReadOnlySpan<byte> data, Span<byte> output32) => Native is not null && Native.TrySm3(data, output32);
}
