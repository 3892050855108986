using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;

namespace SmartCity.Ledger.Receipts;

/// <summary>What a verifier trusts: the chain, its EIP-712 domain (which seals are signed under) and the validators.</summary>
public sealed record TrustAnchor(ulong ChainId, Hash256 DomainSeparator, ValidatorSet Validators)
{
    /// <summary>The anchor of a genesis file: its chain, its EIP-712 domain and its validators.</summary>
    public static TrustAnchor FromGenesis(GenesisDocument genesis)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        var domain = genesis.Eip712Domain.ToDomain();
        return new TrustAnchor(genesis.ChainId, domain.Separator, new ValidatorSet(genesis.Validators.Select(v => v.Address)));
    }
}
