using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Ledger.Receipts;

/// <summary>
/// What a verifier trusts: the chain, its crypto suite, its EIP-712(-shaped) domain (which seals are signed under)
/// and the validators.
/// </summary>
public sealed record TrustAnchor(ulong ChainId, Hash256 DomainSeparator, ValidatorSet Validators)
{
    /// <summary>The chain's crypto suite: receipts, headers and seals of another suite are refused (eth unless set).</summary>
    public CryptoSuiteId Crypto { get; init; } = CryptoSuiteId.Eth;

    /// <summary>The anchor of a genesis file: its chain, its suite, its EIP-712 domain and its validators.</summary>
    public static TrustAnchor FromGenesis(GenesisDocument genesis)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        var suite = CryptoSuite.For(genesis.Crypto.Suite);
        var domain = genesis.Domain(suite);
        return new TrustAnchor(genesis.ChainId, domain.Separator, new ValidatorSet(genesis.Validators.Select(v => v.Address), suite)) { Crypto = suite.Id };
    }
}
