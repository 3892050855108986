using System.Diagnostics.CodeAnalysis;

namespace SmartCity.Ledger.Crypto;

/// <summary>
/// A chain's crypto suite, chosen at genesis (<c>"crypto": "eth"</c> or <c>"gm"</c>) and fixed for the chain's life.
/// The numeric values are part of stored and signed formats: never renumber them.
/// </summary>
public enum CryptoSuiteId : byte
{
    /// <summary>Keccak-256, secp256k1 with recovery, SHA-256 for the history tree: Ethereum tools and EVM anchoring.</summary>
    Eth = 0,

    /// <summary>SM3 (GB/T 32905) for every hash, SM2 signatures (GB/T 32918 / GM/T 0003, GM/T 0009) with the public key carried.</summary>
    Gm = 1,
}

/// <summary>The text names of <see cref="CryptoSuiteId"/>: <c>eth</c> and <c>gm</c>, as genesis and receipts write them.</summary>
public static class CryptoSuiteNames
{
    public const string Eth = "eth";
    public const string Gm = "gm";

    public static string ToName(this CryptoSuiteId suite) => suite switch
    {
        CryptoSuiteId.Eth => Eth,
        CryptoSuiteId.Gm => Gm,
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "unknown crypto suite"),
    };

    public static bool TryParse([NotNullWhen(true)] string? text, out CryptoSuiteId suite)
    {
        switch (text)
        {
            case Eth:
                suite = CryptoSuiteId.Eth;
                return true;
            case Gm:
                suite = CryptoSuiteId.Gm;
                return true;
            default:
                suite = default;
                return false;
        }
    }
}
