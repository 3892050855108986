using System.Globalization;
using System.Security.Cryptography;
using Nethereum.ABI.EIP712;
using Nethereum.Signer;
using Nethereum.Signer.EIP712;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Testing;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Tests.Crypto.CrossCheck;

/// <summary>
/// The project's EIP-712 against Nethereum.Signer.EIP712 (an independent implementation) on random typed data:
/// for every case the digest, the 65-byte signature (RFC 6979, low-s) and the address each side recovers from the
/// other's signature must agree. Where Nethereum departs from the standard the case is named
/// (<see cref="NethereumDepartures"/>) and ethers decides: the project must agree with ethers.
/// The seed changes every run and is printed; <c>SMARTCITY_EIP712_SEED=N</c> replays a run,
/// <c>SMARTCITY_EIP712_CASES=N</c> changes the number of cases (default 500).
/// </summary>
public sealed class Eip712NethereumCrossCheckTests(ITestOutputHelper output)
{
    private const int DefaultCases = 500;

    [Fact]
    public void Random_typed_data_hashes_signs_and_recovers_the_same_in_the_project_and_nethereum_with_ethers_deciding_disagreements()
    {
        var seed = Environment.GetEnvironmentVariable("SMARTCITY_EIP712_SEED") is { Length: > 0 } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : RandomNumberGenerator.GetInt32(int.MaxValue);
        var count = Environment.GetEnvironmentVariable("SMARTCITY_EIP712_CASES") is { Length: > 0 } n ? int.Parse(n, CultureInfo.InvariantCulture) : DefaultCases;
        var replay = $"SMARTCITY_EIP712_SEED={seed} dotnet test tests/SmartCity.Ledger.Tests --filter FullyQualifiedName~Eip712NethereumCrossCheckTests";
        output.WriteLine($"seed {seed}, {count} cases; replay with: {replay}");

        var curve = Secp256k1.Default;
        var agreed = 0;
        var disagreements = new List<(TypedDataCase Case, string Project, string Nethereum)>();
        var failures = new List<string>();
        foreach (var c in new TypedDataGenerator(seed).Cases(count))
        {
            if (!Eip712TypedData.TryComputeDigest(c.Json, out var digest, out var error))
            {
                disagreements.Add((c, $"error: {error.Error}: {error.Message}", NethereumDigest(c.Json)));
                continue;
            }

            var theirs = NethereumDigest(c.Json);
            if (theirs != digest.ToString())
            {
                disagreements.Add((c, digest.ToString(), theirs));
                continue;
            }

            var ours = curve.Sign(digest, c.PrivateKey);
            var key = new EthECKey(c.PrivateKey, isPrivate: true);
            var nethereumSignature = Eip712TypedDataSigner.Current.SignTypedDataV4(c.Json, key);
            var expected = curve.GetAddress(c.PrivateKey);
            var recoveredFromTheirs = curve.Recover(digest, Signature.Parse(nethereumSignature), out var signer) == SignatureCheck.Ok ? signer.ToString() : "none";
            var recoveredFromOurs = Eip712TypedDataSigner.Current.RecoverFromSignatureHashV4(digest.ToArray(), ours.ToString());
            if (ours.ToString() != nethereumSignature.ToLowerInvariant() || recoveredFromTheirs != expected.ToString()
                || !string.Equals(recoveredFromOurs, expected.ToString(), StringComparison.OrdinalIgnoreCase) || key.GetPublicAddress() != expected.ToString())
            {
                failures.Add($"case {c.Index}: signatures or signers differ: ours {ours} recovers (Nethereum) {recoveredFromOurs}; Nethereum's {nethereumSignature} recovers (ours) {recoveredFromTheirs}; key {expected} / {key.GetPublicAddress()}\n{c.Json}");
                continue;
            }

            agreed++;
        }

        var departures = new Dictionary<string, int>(StringComparer.Ordinal);
        if (disagreements.Count > 0)
        {
            Assert.True(EthersArbiter.Problem is null || !PostgresFixture.IsCi, EthersArbiter.Problem);
            if (EthersArbiter.Problem is null)
            {
                var verdicts = EthersArbiter.Hash([.. disagreements.Select(d => d.Case.Json)]);
                for (var i = 0; i < disagreements.Count; i++)
                {
                    var (c, ours, theirs) = disagreements[i];
                    if (verdicts[i] != ours && !(verdicts[i].StartsWith("error", StringComparison.Ordinal) && ours.StartsWith("error", StringComparison.Ordinal)))
                    {
                        failures.Add($"case {c.Index}: the project says {ours}, ethers {verdicts[i]}, Nethereum {theirs}\n{c.Json}");
                        continue;
                    }

                    if (ours.StartsWith("error", StringComparison.Ordinal))
                    {
                        // The generator made an invalid document; the project and ethers both refuse it.
                        continue;
                    }

                    if (NethereumDepartures.Name(c, theirs) is not { } name)
                    {
                        failures.Add($"case {c.Index}: the project and ethers say {ours}; Nethereum says {theirs}, a departure not named in {nameof(NethereumDepartures)}\n{c.Json}");
                        continue;
                    }

                    departures[name] = departures.GetValueOrDefault(name) + 1;
                    output.WriteLine($"case {c.Index}: Nethereum departs ({name}): it says {theirs}; the project and ethers say {ours}");
                }
            }
        }

        output.WriteLine($"{agreed} of {count} cases agree byte for byte with Nethereum; {disagreements.Count} disagree, decided by ethers");
        foreach (var (name, times) in departures.OrderByDescending(d => d.Value))
        {
            output.WriteLine($"  Nethereum departs from EIP-712 ({times} cases): {name}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} cases fail (seed {seed}; replay: {replay}):\n{string.Join("\n\n", failures.Take(5))}");
        Assert.True(agreed >= count / 2, $"only {agreed} of {count} cases could be compared with Nethereum (seed {seed}; replay: {replay})");
    }

    private static string NethereumDigest(string json)
    {
        try
        {
            return "0x" + Convert.ToHexStringLower(Eip712TypedDataEncoder.Current.EncodeAndHashTypedData(json));
        }
        catch (Exception e)
        {
            return $"error: {e.GetType().Name}: {e.Message}";
        }
    }
}
