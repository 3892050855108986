using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Genesis;

/// <summary>
/// The canonical bytes of a whole genesis document: every field a node reads from the file, in one fixed order, so
/// that two genesis files that differ in anything the chain obeys (the crypto suite, the SM2 identifier, the EIP-712
/// domain, a region's division prefixes, a member's roles, a publication period, a size limit, the governance rule...)
/// encode differently. The genesis state holds the suite's hash of these bytes (<c>chain-parameters</c>), so the genesis
/// block's hash commits to all of them (docs/domain.md, "Genesis").
/// </summary>
/// <remarks>
/// Layout (big-endian integers, strings as u32 length + UTF-8, lists as u32 count): <c>"smartcity-genesis" ‖ format u32
/// ‖ chainId u64 ‖ genesisTime ms u64 ‖ crypto string ‖ sm2Id string ‖ domain name, version strings, chainId u64 ‖
/// regions (code, name, prefixes[]) ‖ members (address 20, uscc, name, region, roles u32) ‖ validators (address 20,
/// name, region) ‖ parameters (maxBlockTransactions, maxBlockBytes, maxTransactionBytes u32; minor, moderate, serious:
/// minMonths, maxMonths, repairAfterMonths u32; objectionDeadlineDays, proposalLifetimeDays u32; governance numerator,
/// denominator u32)</c>. The sm2Id is written for eth chains too (the default), so the layout does not depend on the suite.
/// </remarks>
public static class GenesisCommitment
{
    private const string Magic = "smartcity-genesis";

    public static byte[] Encode(GenesisDocument genesis)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        var w = new CanonicalWriter();
        w.WriteString(Magic);
        w.WriteUInt32(checked((uint)genesis.FormatVersion));
        w.WriteUInt64(genesis.ChainId);
        w.WriteUInt64(checked((ulong)genesis.GenesisTime.ToUnixTimeMilliseconds()));
        w.WriteString(genesis.Crypto.Suite.ToName());
        w.WriteString(genesis.Crypto.Sm2DistinguishingId);
        w.WriteString(genesis.Eip712Domain.Name);
        w.WriteString(genesis.Eip712Domain.Version);
        w.WriteUInt64(genesis.Eip712Domain.ChainId);
        w.WriteUInt32((uint)genesis.Regions.Count);
        foreach (var region in genesis.Regions)
        {
            w.WriteString(region.Code);
            w.WriteString(region.Name);
            w.WriteUInt32((uint)region.DivisionPrefixes.Count);
            foreach (var prefix in region.DivisionPrefixes)
            {
                w.WriteString(prefix);
            }
        }

        w.WriteUInt32((uint)genesis.Members.Count);
        foreach (var member in genesis.Members)
        {
            w.WriteRaw(member.Address.Bytes);
            w.WriteString(member.Uscc.Value);
            w.WriteString(member.Name);
            w.WriteString(member.Region);
            w.WriteUInt32((uint)member.Roles);
        }

        w.WriteUInt32((uint)genesis.Validators.Count);
        foreach (var validator in genesis.Validators)
        {
            w.WriteRaw(validator.Address.Bytes);
            w.WriteString(validator.Name);
            w.WriteString(validator.Region);
        }

        var p = genesis.Parameters;
        w.WriteUInt32(checked((uint)p.MaxBlockTransactions));
        w.WriteUInt32(checked((uint)p.MaxBlockBytes));
        w.WriteUInt32(checked((uint)p.MaxTransactionBytes));
        foreach (var rule in (ReadOnlySpan<PublicationRule>)[p.Minor, p.Moderate, p.Serious])
        {
            w.WriteUInt32(checked((uint)rule.MinMonths));
            w.WriteUInt32(checked((uint)rule.MaxMonths));
            w.WriteUInt32(checked((uint)rule.RepairAfterMonths));
        }

        w.WriteUInt32(checked((uint)p.ObjectionDeadlineDays));
        w.WriteUInt32(checked((uint)p.ProposalLifetimeDays));
        w.WriteUInt32(checked((uint)p.Governance.Numerator));
        w.WriteUInt32(checked((uint)p.Governance.Denominator));
        return w.ToArray();
    }

    /// <summary>The suite's hash of <see cref="Encode"/>: what the genesis state records.</summary>
    public static Hash256 Digest(GenesisDocument genesis, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return suite.Hash(Encode(genesis));
    }
}
