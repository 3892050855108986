using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;

namespace SmartCity.Testing.TestKit;

/// <summary>
/// A party with a deterministic, publicly known test key: the private key is the 32-byte big-endian integer
/// <see cref="Seed"/>. Members of the sample genesis are seeds 1-6, its validators 101-104. Tests sign through
/// <see cref="Signer"/> (eth) or <see cref="SignerIn"/> (the key as an SM2 key for a gm chain: same seed, another
/// address); the key bytes stay inside them.
/// </summary>
public sealed record TestKey(int Seed, string Name, string Uscc, string Region)
{
    private readonly Lazy<InMemorySigner> _gm = new(() => SignerOf(Seed, CryptoSuite.Gm.Signatures));

    /// <summary>An in-memory secp256k1 signer for the key (eth); it lives as long as the test process.</summary>
    public InMemorySigner Signer { get; } = SignerOf(Seed, null);

    /// <summary>The key's eth address.</summary>
    public Address Address => Signer.Address;

    /// <summary>The key's signer in a chain of <paramref name="suite"/>: secp256k1 for eth, SM2 for gm.</summary>
    public InMemorySigner SignerIn(CryptoSuiteId suite) => suite == CryptoSuiteId.Gm ? _gm.Value : Signer;

    /// <summary>The key's address in a chain of <paramref name="suite"/> (eth: Keccak-256 of the secp256k1 key; gm: SM3 of the SM2 key).</summary>
    public Address AddressIn(CryptoSuiteId suite) => SignerIn(suite).Address;

    /// <summary>A new signer of the key over <paramref name="scheme"/> (e.g. SM2 with a genesis's own identifier); the caller disposes it.</summary>
    public InMemorySigner SignerOver(ISignatureScheme scheme) => SignerOf(Seed, scheme);

    public Subject AsSubject => Subject.LegalPerson(UnifiedSocialCreditCode.Parse(Uscc).Value);

    public override string ToString() => Name;

    private static InMemorySigner SignerOf(int seed, ISignatureScheme? scheme)
    {
        Span<byte> key = stackalloc byte[32];
        key.Clear();
        BinaryPrimitives.WriteInt32BigEndian(key[28..], seed);
        return new InMemorySigner(key, scheme);
    }
}

/// <summary>The parties of the sample genesis (contracts/genesis/sample-genesis.json) and one outsider.</summary>
public static class TestKeys
{
    public static TestKey BeijingRegulator { get; } = new(1, "Beijing regulator", "11110000MB0000001Y", "BJ");

    public static TestKey TianjinRegulator { get; } = new(2, "Tianjin regulator", "11120000MB00000026", "TJ");

    public static TestKey HebeiRegulator { get; } = new(3, "Hebei regulator", "11130000MB0000003D", "HE");

    public static TestKey XionganCommittee { get; } = new(4, "Xiong'an committee", "11133100MB0000004T", "XA");

    public static TestKey BeijingCourt { get; } = new(5, "Beijing court", "11110000MB0000005B", "BJ");

    public static TestKey JointCreditOffice { get; } = new(6, "Joint credit office", "11110000MB0000006E", "BJ");

    public static TestKey Outsider { get; } = new(999, "Outsider", "91110000MA00000077", "BJ");

    public static IReadOnlyList<TestKey> Members { get; } = [BeijingRegulator, TianjinRegulator, HebeiRegulator, XionganCommittee, BeijingCourt, JointCreditOffice];

    /// <summary>The sample genesis's validators BJ, TJ, HE, XA (seeds 101-104), in file order.</summary>
    public static IReadOnlyList<TestKey> Validators { get; } =
    [
        new(101, "BJ validator", "", "BJ"),
        new(102, "TJ validator", "", "TJ"),
        new(103, "HE validator", "", "HE"),
        new(104, "XA validator", "", "XA"),
    ];

    /// <summary>Both suites, for theories that run a test under each (<c>[MemberData(nameof(TestKeys.Suites), MemberType = typeof(TestKeys))]</c>).</summary>
    public static TheoryData<CryptoSuiteId> Suites => new(CryptoSuiteId.Eth, CryptoSuiteId.Gm);

    /// <summary>A legal-person subject with a valid code (the GB 32100 standard's own example).</summary>
    public static string Company => "uscc:91350100M000100Y43";

    public static string OtherCompany => "uscc:914403001922038216";
}
