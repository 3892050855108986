using System.Text.RegularExpressions;
using SmartCity.Testing;

namespace SmartCity.Ledger.Tests.Crypto;

/// <summary>
/// The crypto-suite boundary (issue 18): Keccak-256, secp256k1 and the SHA-256 history tree are the eth suite's, and
/// code outside <c>src/Ledger/Crypto</c> should reach them through <see cref="Ledger.Crypto.CryptoSuite"/>, an
/// <see cref="Ledger.Crypto.ISigner"/> or the verifiers. The engine (src/Ledger outside Keys) is routed; <see cref="Remaining"/>
/// lists every file at the edges that still calls a primitive directly, with how many times (lower an entry when its
/// calls are routed). A new direct call
/// fails this test; route it through the suite instead (or, when merging, add it here and say so).
/// </summary>
public sealed partial class CryptoSuiteBoundaryTests
{
    /// <summary>Direct calls left to route through the suite, per file (the work left in issue 18 step 1).</summary>
    private static readonly Dictionary<string, int> Remaining = new(StringComparer.Ordinal)
    {
        // Not a chain hash: the embedded store's on-disk projection index keys its rows by SHA-256 of their identity,
        // a local file format that must not depend on the chain's suite (the same store code serves eth and gm).
        ["src/Ledger/Storage/Embedded/ProjectionTable.cs"] = 1,
    };

    [Fact]
    public void No_file_outside_the_crypto_folder_calls_keccak_secp256k1_or_the_sha256_history_tree_more_than_the_recorded_remainder()
    {
        var found = DirectCalls();
        var grown = found.Where(f => f.Value > Remaining.GetValueOrDefault(f.Key)).Select(f => $"{f.Key}: {f.Value} direct calls (recorded {Remaining.GetValueOrDefault(f.Key)})").ToList();
        Assert.True(grown.Count == 0, "route these through CryptoSuite instead of calling the primitive:\n" + string.Join("\n", grown));
    }

    private static Dictionary<string, int> DirectCalls()
    {
        var root = RepositoryFiles.Root;
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.StartsWith("src/Ledger/Crypto/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal))
            {
                continue;
            }

            var count = File.ReadLines(file).Count(line => Primitive().IsMatch(line));
            if (count > 0)
            {
                result[relative] = count;
            }
        }

        return result;
    }

    [GeneratedRegex(@"\bKeccak256\.|\bSecp256k1\.(Default|Create|GeneratePrivateKey|IsValidPrivateKey)|\bSHA256\.|\bRfc6962\.")]
    private static partial Regex Primitive();
}
