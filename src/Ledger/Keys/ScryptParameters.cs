namespace SmartCity.Ledger.Keys;

/// <summary>
/// scrypt cost parameters of a keystore (the derived key is always 32 bytes). <see cref="Standard"/> is what every
/// key this project writes uses unless a caller asks otherwise.
/// </summary>
public sealed record ScryptParameters(int N, int R, int P)
{
    /// <summary>
    /// geth's "standard" parameters: N = 2^18, r = 8, p = 1 — 256 MiB of memory and about a second of one core per
    /// guess on a server, which is what makes a stolen keystore expensive to brute-force.
    /// </summary>
    public static ScryptParameters Standard { get; } = new(1 << 18, 8, 1);

    /// <summary>geth's "light" parameters (N = 2^12, r = 8, p = 6): development and tests only.</summary>
    public static ScryptParameters Light { get; } = new(1 << 12, 8, 6);

    /// <summary>The largest N a keystore may ask for (2^20, 1 GiB at r = 8): a hostile file must not exhaust memory.</summary>
    public const int MaxN = 1 << 20;

    /// <summary>Null when the parameters are valid and within bounds, otherwise why not.</summary>
    public string? Problem()
    {
        if (N < 2 || (N & (N - 1)) != 0)
        {
            return $"scrypt n must be a power of two above 1, got {N}";
        }

        if (N > MaxN)
        {
            return $"scrypt n = {N} is above the accepted maximum {MaxN}";
        }

        if (R is < 1 or > 32)
        {
            return $"scrypt r must be in [1, 32], got {R}";
        }

        if (P is < 1 or > 16)
        {
            return $"scrypt p must be in [1, 16], got {P}";
        }

        return (long)128 * N * R > 1L << 30 ? $"scrypt n = {N}, r = {R} needs more than 1 GiB of memory" : null;
    }

    public override string ToString() => $"scrypt n={N} r={R} p={P}";
}
