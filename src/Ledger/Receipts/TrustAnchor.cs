using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Ledger.Receipts;

/// <summary>
/// What a verifier trusts: the chain, its crypto suite (and for gm the SM2 distinguishing identifier), its
/// EIP-712(-shaped) domain (which seals are signed under) and the validators.
/// </summary>
public sealed record TrustAnchor(ulong ChainId, Hash256 DomainSeparator, ValidatorSet Validators)
{
    /// <summary>The chain's crypto suite: receipts, headers and seals of another suite are refused (eth unless set).</summary>
    public CryptoSuiteId Crypto { get; init; } = CryptoSuiteId.Eth;

    /// <summary>
    /// The SM2 distinguishing identifier (GM/T 0009) the chain's seals are signed with: genesis's <c>"sm2Id"</c>, or
    /// the default <c>1234567812345678</c>. Part of every gm signature's Z value, so a verifier with another identifier
    /// refuses every seal. Not used by an eth chain.
    /// </summary>
    public string Sm2Id { get; init; } = Sm2.DefaultDistinguishingId;

    /// <summary>
    /// The signature scheme this anchor's seals are checked with: the anchor's suite on the process's implementations
    /// (native when they load), SM2 with <see cref="Sm2Id"/>.
    /// </summary>
    public ISignatureScheme CreateScheme() => CryptoSuite.Create(Crypto, logger: null, Sm2Id).Signatures;

    /// <summary>Whether <paramref name="scheme"/> checks signatures as this anchor's chain makes them (suite and SM2 identifier).</summary>
    public bool Accepts(ISignatureScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        return scheme.Suite == Crypto
            && (scheme is not ISm2 sm2 || sm2.DistinguishingId.SequenceEqual(System.Text.Encoding.UTF8.GetBytes(Sm2Id)));
    }

    /// <summary>The anchor of a genesis file: its chain, its suite, its EIP-712 domain and its validators.</summary>
    public static TrustAnchor FromGenesis(GenesisDocument genesis)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        var suite = CryptoSuite.For(genesis.Crypto.Suite);
        var domain = genesis.Domain(suite);
        return new TrustAnchor(genesis.ChainId, domain.Separator, new ValidatorSet(genesis.Validators.Select(v => v.Address), suite)) { Crypto = suite.Id, Sm2Id = genesis.Crypto.Sm2DistinguishingId };
    }
}
