using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Node;
using SmartCity.Testing.TestKit;

namespace SmartCity.Testing.ValidatorSets;

/// <summary>
/// Blocks for a chain of the sample genesis built by hand (shared by the validator-set tests of the node, the jobs and
/// the API): the next block's time, its certificate from chosen sealers, and signed transactions — a credit record, or
/// the four regional members voting a validator in — each signer at its next nonce.
/// </summary>
public sealed class SampleBlocks
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private static readonly TestKey[] Voters = [TestKeys.BeijingRegulator, TestKeys.TianjinRegulator, TestKeys.HebeiRegulator, TestKeys.XionganCommittee];
    private readonly Dictionary<Address, ulong> _nonces = [];
    private int _ids;

    /// <summary>The time of the next block: a day after the head's.</summary>
    public static DateTimeOffset Day(LedgerChain chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        return chain.Head.Timestamp.AddDays(1);
    }

    /// <summary>The certificate of <paramref name="candidate"/> from the seals of <paramref name="sealers"/>.</summary>
    public static CommitCertificate Seal(LedgerChain chain, BlockCandidate candidate, params TestKey[] sealers)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(candidate);
        return CommitCertificate.FromSeals(Curve, chain.Anchor.DomainSeparator, candidate.Header, sealers.Select(s => chain.Seal(candidate, s.Signer)));
    }

    /// <summary>A credit record by the Beijing regulator, with an id not used before by this instance.</summary>
    public ReadOnlyMemory<byte> Record()
        => Sign(TestKeys.BeijingRegulator, Build.A.CreditRecord.WithId(Build.Id($"record {_ids++}")).By(TestKeys.BeijingRegulator).Body());

    /// <summary>One block's worth of governance: the four regional members vote <paramref name="target"/> in (voters at distinct nonces).</summary>
    public ReadOnlyMemory<byte>[] VoteIn(TestKey target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var id = Build.Id($"add {_ids++}");
        var transactions = new List<ReadOnlyMemory<byte>> { Sign(Voters[0], new GovernancePropose(id, GovernanceAction.AddValidator, target.Address, target.Uscc, target.Name, target.Region, MemberRole.MeasureImplementer)) };
        for (var i = 1; i < Voters.Length; i++)
        {
            for (var filler = 1; filler < i; filler++)
            {
                transactions.Add(Sign(Voters[i], new GovernancePropose(Build.Id($"filler {_ids++}"), GovernanceAction.ChangeRoles, TestKeys.BeijingCourt.Address, TestKeys.BeijingCourt.Uscc, TestKeys.BeijingCourt.Name, TestKeys.BeijingCourt.Region, MemberRole.MeasureImplementer)));
            }

            transactions.Add(Sign(Voters[i], new GovernanceVote(id, true)));
        }

        return [.. transactions];
    }

    /// <summary><paramref name="body"/> signed by <paramref name="signer"/> at its next nonce, encoded.</summary>
    public ReadOnlyMemory<byte> Sign(TestKey signer, ITransactionBody body)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var nonce = _nonces.TryGetValue(signer.Address, out var next) ? next : 0;
        _nonces[signer.Address] = nonce + 1;
        return TransactionCodec.Encode(TestLedger.Sign(GenesisBuilder.Sample.Value, signer, body, nonce));
    }
}
