using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using Spectre.Console;

namespace SmartCity.CreditApi.Demo;

/// <summary>
/// The guided tour of <c>smartcity demo</c>: a local 4-region consortium built from the real engine, sample
/// transactions, two certified blocks, receipts a bank checks offline and queries of a node's store. Plain lines go
/// to <c>o</c>, tables through Spectre.Console.
/// </summary>
public static class DemoTour
{
    private const string Company = "91350100M000100Y43";
    private const string LicenceType = "11100000000013338W032";

    /// <summary>Whether <paramref name="genesis"/> has the validators and members the tour signs with (the sample genesis).</summary>
    public static bool CanTour(GenesisDocument genesis) => genesis.Validators.Count >= 4 && genesis.Members.Count >= 6;

    /// <summary>Runs the tour; <paramref name="outDir"/> receives the node stores, the receipts and a copy of the genesis.</summary>
    public static async Task RunAsync(GenesisDocument genesis, string genesisText, string genesisName, string outDir, string smartcity, TextWriter o, IAnsiConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(console);
        if (!CanTour(genesis))
        {
            throw new DemoSetupException("the tour needs the sample genesis (4 validators, 6 members with the documented test keys)");
        }

        var curve = Secp256k1.Default;
        var dataDirectory = Path.Combine(outDir, "nodes");
        await using var consortium = await DemoConsortium.StartAsync(genesis, curve, dataDirectory, cancellationToken).ConfigureAwait(false);
        var chain = consortium.Reference;

        await o.WriteLineAsync($"== 1. The consortium (genesis {genesisName}, signatures: {curve.Name})").ConfigureAwait(false);
        await o.WriteLineAsync($"   chain {genesis.ChainId}; regions {string.Join(", ", genesis.Regions.Select(r => r.Code))}; {genesis.Members.Count} members; {genesis.Validators.Count} validators, quorum {chain.Anchor.Validators.Quorum}").ConfigureAwait(false);
        var validators = new Table().Border(TableBorder.Rounded).AddColumns("region", "validator", "embedded store");
        foreach (var node in consortium.Nodes)
        {
            validators.AddRow(node.Region, node.Validator.Address.ToString(), Markup.Escape(Path.Combine(dataDirectory, node.Region)));
        }

        console.Write(new Padder(validators, new Padding(3, 0, 0, 0)));

        // Members, in sample-genesis order: 0 BJ regulator, 1 TJ regulator, 2 HE regulator, 3 XA committee, 4 BJ court, 5 joint credit office.
        var t0 = genesis.GenesisTime.AddDays(30);
        var decided = LedgerTime.ToUnixSeconds(t0.AddDays(-2));
        var licenceId = LicenceIdentifier.Compose(LicenceType, genesis.Members[2].Uscc.Value, "2430599", 1);
        var penalty = Keccak256.Hash("demo/penalty/1"u8);
        using var members = DemoKeys.Members(6);
        using var outsiderKey = new InMemorySigner(Keccak256.Hash("not a member"u8).Bytes, curve);
        SignedTransaction Tx(int member, ulong nonce, ITransactionBody body) => SignedTransaction.Sign(members[member], chain.Domain, genesis.ChainId, nonce, body);

        var record = Tx(0, 0, new CreditRecordSubmit(penalty, "uscc:" + Company, RecordCategory.AdministrativePenalty, Severity.Moderate, "110105", decided, 6, "Administrative Penalty Law, art. 28", "", Keccak256.Hash("demo/payload"u8)));
        var licence = Tx(2, 0, new LicenceIssue(licenceId, "uscc:" + Company, "营业执照 Business licence", "130102", decided, LedgerTime.ToUnixSeconds(t0.AddYears(5)), Keccak256.Hash("demo/licence.pdf"u8)));
        var listing = Tx(4, 0, new ListEntryAdd(Keccak256.Hash("demo/list/1"u8), "uscc:" + Company, ListColour.Black, "court-defaulter", "Civil Procedure Law, art. 262", "110105", decided, 0));
        var memo = Tx(5, 0, new MemorandumPublish(Keccak256.Hash("demo/memo/1"u8), "Joint punishment of court-listed defaulters", ListColour.Black, "court-defaulter", ["restrict-high-consumption", "ban-public-procurement"], ["BJ", "TJ", "HE", "XA"], decided, 0));
        var outsider = SignedTransaction.Sign(outsiderKey, chain.Domain, genesis.ChainId, 0, new CreditRecordSubmit(Keccak256.Hash("demo/forged"u8), "uscc:" + Company, RecordCategory.AdministrativePenalty, Severity.Serious, "110105", decided, 12, "none", "", Hash256.Zero));
        var wrongRegion = Tx(1, 0, new CreditRecordSubmit(Keccak256.Hash("demo/penalty/2"u8), "uscc:" + Company, RecordCategory.AdministrativePenalty, Severity.Minor, "110105", decided, 3, "Administrative Penalty Law, art. 28", "", Hash256.Zero));

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 2. Members submit signed EIP-712 transactions; the state machine accepts or rejects each with a reason").ConfigureAwait(false);
        var first = new[] { record, licence, listing, memo, record, outsider, wrongRegion };
        var round1 = await consortium.AgreeAsync([.. first.Select(tx => (ReadOnlyMemory<byte>)TransactionCodec.Encode(tx))], t0, cancellationToken).ConfigureAwait(false);
        var verdicts = new Table().Border(TableBorder.Rounded).AddColumns("transaction", "signed by", "verdict");
        foreach (var column in verdicts.Columns)
        {
            column.NoWrap();
        }
        for (var i = 0; i < first.Length; i++)
        {
            var rejected = round1.Block.Body.Skipped.FirstOrDefault(r => r.Index == i);
            var verdict = rejected is null ? "accepted" : $"[red]REJECTED {rejected.Code}[/]: {Markup.Escape(rejected.Reason)}";
            verdicts.AddRow(first[i].Kind.ToString(), first[i].Signer.ToString()[..10] + "…", verdict);
        }

        console.Write(new Padder(verdicts, new Padding(3, 0, 0, 0)));

        await WriteAgreementAsync(o, consortium, round1).ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 3. A week later the Hebei regulator suspends the licence").ConfigureAwait(false);
        var suspend = Tx(2, 1, new LicenceSuspend(licenceId, "Inspection found the premises closed"));
        var round2 = await consortium.AgreeAsync([TransactionCodec.Encode(suspend)], t0.AddDays(7), cancellationToken).ConfigureAwait(false);
        await o.WriteLineAsync($"   {suspend.Kind} {(round2.Block.Body.Skipped.Count == 0 ? "accepted" : round2.Block.Body.Skipped[0].Reason)}").ConfigureAwait(false);
        await WriteAgreementAsync(o, consortium, round2).ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 4. A bank asks for receipts it can check offline, with nothing but the genesis file").ConfigureAwait(false);
        var licenceReceipt = chain.ProveState(StateKeys.Licence(licenceId));
        var recordReceipt = chain.ProveTransaction(record.Hash(chain.Domain))!;
        var files = new Dictionary<string, Receipt> { ["licence-status.json"] = licenceReceipt, ["credit-record-inclusion.json"] = recordReceipt };
        await File.WriteAllTextAsync(Path.Combine(outDir, "genesis.json"), genesisText, cancellationToken).ConfigureAwait(false);
        foreach (var (name, receipt) in files)
        {
            var path = Path.Combine(outDir, name);
            await File.WriteAllTextAsync(path, ReceiptJson.Write(receipt), cancellationToken).ConfigureAwait(false);
            ReceiptJson.TryParse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false), out var reread, out _);
            var verdict = ReceiptVerifier.Verify(reread!, TrustAnchor.FromGenesis(genesis), curve);
            await o.WriteLineAsync($"   {path}: {(verdict.IsValid ? "VALID" : "INVALID " + verdict.Reason)}").ConfigureAwait(false);
        }

        var status = StateValue.Decode(licenceReceipt.Value!, LicenceState.Read).EffectiveStatusAt(LedgerTime.ToUnixSeconds(licenceReceipt.Header.Timestamp));
        await o.WriteLineAsync($"   licence {licenceId}: status {(int)status:00} {status} at block {licenceReceipt.Header.Height}").ConfigureAwait(false);

        var forged = licenceReceipt with { Value = StateValue.Encode(StateValue.Decode(licenceReceipt.Value!, LicenceState.Read) with { Status = LicenceStatus.Valid }) };
        var forgedVerdict = ReceiptVerifier.Verify(forged, TrustAnchor.FromGenesis(genesis), curve);
        await o.WriteLineAsync($"   the same receipt edited to say 01 Valid: {forgedVerdict.Check}: {forgedVerdict.Reason}").ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 5. A credit bureau queries the Xiong'an node's store (fsynced segments, projections)").ConfigureAwait(false);
        var store = consortium.Nodes[^1].Store;
        var head = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
        await o.WriteLineAsync($"   head {head!.Value.Height} ({head.Value.BlockHash}), {head.Value.HistorySize} transactions in the history").ConfigureAwait(false);
        foreach (var row in await store.GetCreditRecordsBySubjectAsync("uscc:" + Company, cancellationToken).ConfigureAwait(false))
        {
            await o.WriteLineAsync($"   credit record {row.RecordId[..10]}… of uscc:{Company}: severity {row.Severity}, published until {DateTimeOffset.FromUnixTimeSeconds(row.ExpiresAt):yyyy-MM-dd}, by {row.DesignatingMember.ToString()[..10]}…").ConfigureAwait(false);
        }

        foreach (var row in await store.GetListEntriesBySubjectAsync("uscc:" + Company, cancellationToken).ConfigureAwait(false))
        {
            await o.WriteLineAsync($"   list entry {row.EntryId[..10]}…: {(row.ListKind == (short)ListColour.Black ? "black" : "red")} list, listed by {row.ListedBy.ToString()[..10]}…").ConfigureAwait(false);
        }

        var stored = await store.GetLicenceAsync(licenceId, cancellationToken).ConfigureAwait(false);
        await o.WriteLineAsync($"   licence {licenceId}: status {stored!.Status:00} in the projection, written by block {stored.Height}").ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 6. Check the receipts yourself").ConfigureAwait(false);
        await o.WriteLineAsync($"   {smartcity} receipt verify --file {Path.Combine(outDir, "licence-status.json")} --genesis {Path.Combine(outDir, "genesis.json")}").ConfigureAwait(false);
        await o.WriteLineAsync($"   {smartcity} receipt verify --file {Path.Combine(outDir, "credit-record-inclusion.json")} --genesis {Path.Combine(outDir, "genesis.json")}").ConfigureAwait(false);
    }

    private static async Task WriteAgreementAsync(TextWriter o, DemoConsortium consortium, DemoRound round)
    {
        var header = round.Block.Header;
        await o.WriteLineAsync($"   block {header.Height}: proposed by {round.Proposer.Region}, {header.TransactionCount} transactions, header {header.Hash}").ConfigureAwait(false);
        await o.WriteLineAsync($"   certificate: {round.Certificate.Seals.Length} seals (quorum {consortium.Reference.Anchor.Validators.Quorum}); history size {header.HistorySize}").ConfigureAwait(false);
        foreach (var node in consortium.Nodes)
        {
            await o.WriteLineAsync($"   {node.Region} head {node.Chain.Head.Height} state root {node.Chain.Head.StateRoot}").ConfigureAwait(false);
        }
    }
}
