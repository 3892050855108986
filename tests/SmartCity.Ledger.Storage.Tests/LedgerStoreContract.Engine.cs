using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.State;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>The engine's certified blocks, written through the contract: what the node will do on every commit.</summary>
public abstract partial class LedgerStoreContract
{
    [ContractFact]
    public async Task A_certified_chain_from_the_engine_is_stored_with_projections_that_answer_queries()
    {
        var curve = Secp256k1.Default;
        var chain = new LedgerChain(GenesisBuilder.Sample.Value, curve);
        await Store.AppendAsync(chain.GenesisCommit(), CancellationToken.None);
        ISigner[] validators = [.. TestKeys.Validators.Take(3).Select(v => v.Signer)];

        async Task CommitAsync(params SignedTransaction[] txs)
        {
            var candidate = chain.Propose([.. txs.Select(tx => (ReadOnlyMemory<byte>)TransactionCodec.Encode(tx))], chain.Head.Timestamp.AddDays(1));
            Assert.Equal(txs.Length, candidate.Body.Included.Count);
            var certificate = CommitCertificate.FromSeals(curve, chain.Anchor.DomainSeparator, candidate.Header, validators.Select(k => chain.Seal(candidate, k)));
            Assert.True((await chain.CommitAsync(candidate, certificate, Store, CancellationToken.None)).IsValid);
        }

        var record = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(TestKeys.Company);
        var licence = Build.A.Licence.By(TestKeys.HebeiRegulator).HeldBy(TestKeys.Company).InArea("130102");
        var listing = Build.A.ListEntry.By(TestKeys.BeijingCourt).For(TestKeys.Company);
        await CommitAsync(record.Signed(0), licence.Signed(0), listing.Signed(0));
        await CommitAsync(TestLedger.Sign(chain.Genesis, TestKeys.HebeiRegulator, new LicenceSuspend(licence.Identifier, "premises closed"), 1));

        await ReopenAsync();
        var head = await Store.GetHeadAsync(CancellationToken.None);
        Assert.Equal((2L, chain.Head.Hash, 4L), (head!.Value.Height, head.Value.BlockHash, head.Value.HistorySize));

        var records = await Store.GetCreditRecordsBySubjectAsync(TestKeys.Company, CancellationToken.None);
        Assert.Equal(record.Id.ToString(), Assert.Single(records).RecordId);
        Assert.Equal((short)LicenceStatus.Suspended, (await Store.GetLicenceAsync(licence.Identifier, CancellationToken.None))!.Status);
        Assert.Single(await Store.GetListEntriesBySubjectAsync(TestKeys.Company, CancellationToken.None));

        // The stored state and history nodes are the engine's: a stored value matches the certified state root's proof.
        var licenceKey = StateKeys.Licence(licence.Identifier);
        var stored = await Store.GetStateAsync(licenceKey.HashIn(chain.Suite), CancellationToken.None);
        Assert.True(chain.ProveState(licenceKey).Proof.Verify(chain.Head.StateRoot, licenceKey.HashIn(chain.Suite), stored, chain.Suite));
        Assert.Equal(chain.HeadForBuilding.HistoryNodes.Get(2, 0), await Store.GetHistoryNodeAsync(2, 0, CancellationToken.None));
    }
}
