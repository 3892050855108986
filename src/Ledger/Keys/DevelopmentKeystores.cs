using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys;

/// <summary>
/// The sample genesis's public test keys (contracts/genesis/README.md: the integers 1-6 for the members in file order,
/// 101-104 for the validators BJ, TJ, HE, XA) written as keystores under a development password, so the demo and
/// local clusters run on keystores like production. These keys are public knowledge: development only.
/// </summary>
public static class DevelopmentKeystores
{
    /// <summary>The password of every development keystore. Public, like the keys.</summary>
    public const string Password = "smartcity-dev";

    private static readonly string[] ValidatorRegions = ["bj", "tj", "he", "xa"];

    /// <summary>
    /// Writes <c>member-1.json</c> … <c>member-6.json</c> and <c>validator-bj.json</c> … <c>validator-xa.json</c>
    /// (mode 0600) into <paramref name="directory"/>, encrypted with <see cref="Password"/> and
    /// <see cref="ScryptParameters.Light"/> unless told otherwise; returns each file with its address. With
    /// <paramref name="suite"/> gm the same integers are SM2 keys (other addresses: last 20 bytes of SM3(x‖y)) in gm keystores.
    /// </summary>
    public static IReadOnlyList<(string Path, Address Address)> WriteSampleGenesisKeys(string directory, string password = Password, ScryptParameters? parameters = null, CryptoSuiteId suite = CryptoSuiteId.Eth)
    {
        Directory.CreateDirectory(directory);
        var written = new List<(string, Address)>();
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        for (var i = 1; i <= 6; i++)
        {
            written.Add(Write(Path.Combine(directory, $"member-{i}.json"), i, passwordBytes, parameters ?? ScryptParameters.Light, suite));
        }

        for (var i = 0; i < ValidatorRegions.Length; i++)
        {
            written.Add(Write(Path.Combine(directory, $"validator-{ValidatorRegions[i]}.json"), 101 + i, passwordBytes, parameters ?? ScryptParameters.Light, suite));
        }

        return written;
    }

    /// <summary>The address of sample key <paramref name="seed"/> (1-6 members, 101-104 validators) in <paramref name="suite"/>.</summary>
    public static Address SampleAddress(int seed, CryptoSuiteId suite = CryptoSuiteId.Eth)
    {
        Span<byte> key = stackalloc byte[32];
        key.Clear();
        BinaryPrimitives.WriteInt32BigEndian(key[28..], seed);
        return CryptoSuite.For(suite).Signatures.GetAddress(key);
    }

    private static (string, Address) Write(string path, int seed, byte[] password, ScryptParameters parameters, CryptoSuiteId suite)
    {
        Span<byte> key = stackalloc byte[32];
        key.Clear();
        BinaryPrimitives.WriteInt32BigEndian(key[28..], seed);
        using var material = KeyMaterial.Copy(key, suite);
        KeystoreFile.Write(path, material, password, parameters);
        return (path, material.Address);
    }
}
