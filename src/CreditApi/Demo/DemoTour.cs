using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage.Embedded;
using Spectre.Console;

namespace SmartCity.CreditApi.Demo;

/// <summary>
/// The guided tour of <c>smartcity demo</c>: a local 4-region consortium of node runtimes (the same pipeline
/// <c>smartcity node</c> runs: admission, mempool, proposal, re-execution, seals, store, publication) agreeing in one
/// process, sample transactions, two certified blocks, receipts a bank checks offline and queries of a node's store. Plain lines go
/// to <c>o</c>, tables through Spectre.Console.
/// </summary>
public static class DemoTour
{
    private const string Company = "91350100M000100Y43";
    private const string LicenceType = "11100000000013338W032";

    /// <summary>Whether <paramref name="genesis"/> has the validators and members the tour signs with (the sample genesis).</summary>
    public static bool CanTour(GenesisDocument genesis) => genesis.Validators.Count >= 4 && genesis.Members.Count >= 6;

    /// <summary>Runs the tour; <paramref name="outDir"/> receives the node stores, the receipts and a copy of the genesis.</summary>
    /// <remarks>Step 7 anchors a checkpoint on the EVM node of <paramref name="anchoring"/> (or says why it is skipped).</remarks>
    public static async Task RunAsync(GenesisDocument genesis, string genesisText, string genesisName, string outDir, string smartcity, TextWriter o, IAnsiConsole console, CancellationToken cancellationToken, DemoAnchorSettings? anchoring = null)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(console);
        if (!CanTour(genesis))
        {
            throw new DemoSetupException("the tour needs the sample genesis (4 validators, 6 members with the documented test keys)");
        }

        // The chain's suite (genesis "crypto"): the tour's identifiers are hashed and its keys sign in it.
        var suite = genesis.Crypto.CreateSuite();
        var curve = suite.Signatures;
        var dataDirectory = Path.Combine(outDir, "nodes");
        var clock = new DemoClock(genesis.GenesisTime.AddDays(30));
        using var keys = DemoKeys.Open(genesis, suite, Path.Combine(outDir, "keys"));
        var stores = new System.Collections.Concurrent.ConcurrentDictionary<string, Ledger.Storage.ILedgerStore>(StringComparer.Ordinal);
        await using var consortium = await StartConsortiumAsync(genesis, curve, dataDirectory, clock, keys, stores, cancellationToken).ConfigureAwait(false);
        var reference = consortium.Nodes[0].Node;
        var domain = reference.Domain;

        await o.WriteLineAsync($"== 1. The consortium (genesis {genesisName}, crypto {suite.Name}, signatures: {suite.Signatures.Name})").ConfigureAwait(false);
        await o.WriteLineAsync($"   chain {genesis.ChainId}; regions {string.Join(", ", genesis.Regions.Select(r => r.Code))}; {genesis.Members.Count} members; {genesis.Validators.Count} validators, quorum {reference.Anchor.Validators.Quorum}").ConfigureAwait(false);
        await o.WriteLineAsync("   each validator is a node runtime (single writer, mempool, embedded store, consensus journal); they agree by QBFT (proposal, prepare, commit; a block is final with a quorum of commit seals)").ConfigureAwait(false);
        var validators = new Table().Border(TableBorder.Rounded).AddColumns("region", "validator", "embedded store");
        foreach (var (region, _) in consortium.Nodes)
        {
            var address = genesis.Validators.First(v => v.Region == region).Address;
            validators.AddRow(region, address.ToString(), Markup.Escape(Path.Combine(dataDirectory, region)));
        }

        console.Write(new Padder(validators, new Padding(3, 0, 0, 0)));
        await o.WriteLineAsync($"   keys: the sample genesis's public test keys as {suite.Name} keystores in {Path.Combine(outDir, "keys")} (password '{DevelopmentKeystores.Password}'), opened through KeySource like a production node").ConfigureAwait(false);

        // Members, in sample-genesis order: 0 BJ regulator, 1 TJ regulator, 2 HE regulator, 3 XA committee, 4 BJ court, 5 joint credit office.
        var t0 = clock.GetUtcNow();
        var decided = LedgerTime.ToUnixSeconds(t0.AddDays(-2));
        var licenceId = LicenceIdentifier.Compose(LicenceType, genesis.Members[2].Uscc.Value, "2430599", 1);
        var penalty = suite.Hash("demo/penalty/1"u8);
        using var outsiderKey = new InMemorySigner(suite.Hash("not a member"u8).Bytes, suite.Signatures);
        SignedTransaction Tx(int member, ulong nonce, ITransactionBody body) => SignedTransaction.Sign(keys.Members[member], domain, genesis.ChainId, nonce, body);

        var record = Tx(0, 0, new CreditRecordSubmit(penalty, "uscc:" + Company, RecordCategory.AdministrativePenalty, Severity.Moderate, "110105", decided, 6, "Administrative Penalty Law, art. 28", "", suite.Hash("demo/payload"u8)));
        var licence = Tx(2, 0, new LicenceIssue(licenceId, "uscc:" + Company, "营业执照 Business licence", "130102", decided, LedgerTime.ToUnixSeconds(t0.AddYears(5)), suite.Hash("demo/licence.pdf"u8)));
        var listing = Tx(4, 0, new ListEntryAdd(suite.Hash("demo/list/1"u8), "uscc:" + Company, ListColour.Black, "court-defaulter", "Civil Procedure Law, art. 262", "110105", decided, 0));
        var memo = Tx(5, 0, new MemorandumPublish(suite.Hash("demo/memo/1"u8), "Joint punishment of court-listed defaulters", ListColour.Black, "court-defaulter", ["restrict-high-consumption", "ban-public-procurement"], ["BJ", "TJ", "HE", "XA"], decided, 0));
        var outsider = SignedTransaction.Sign(outsiderKey, domain, genesis.ChainId, 0, new CreditRecordSubmit(suite.Hash("demo/forged"u8), "uscc:" + Company, RecordCategory.AdministrativePenalty, Severity.Serious, "110105", decided, 12, "none", "", Hash256.Zero));
        var wrongRegion = Tx(1, 0, new CreditRecordSubmit(suite.Hash("demo/penalty/2"u8), "uscc:" + Company, RecordCategory.AdministrativePenalty, Severity.Minor, "110105", decided, 3, "Administrative Penalty Law, art. 28", "", Hash256.Zero));

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 2. Members submit signed EIP-712 transactions to every node; admission and the rules accept or reject each with a reason").ConfigureAwait(false);
        var first = new[] { record, licence, listing, memo, outsider, wrongRegion };
        var results = await consortium.SubmitManyAsync([.. first.Select(tx => (ReadOnlyMemory<byte>)TransactionCodec.Encode(tx))], waitForCommit: true, cancellationToken).ConfigureAwait(false);
        var replay = await consortium.SubmitAsync(TransactionCodec.Encode(record), waitForCommit: true, cancellationToken).ConfigureAwait(false);
        var verdicts = new Table().Border(TableBorder.Rounded).AddColumns("transaction", "signed by", "verdict");
        foreach (var column in verdicts.Columns)
        {
            column.NoWrap();
        }

        foreach (var (tx, result, label) in first.Zip(results, (tx, result) => (tx, result, tx.Kind.ToString())).Append((record, replay, "the same record again")))
        {
            verdicts.AddRow(label, tx.Signer.ToString()[..10] + "…", Markup.Escape(Verdict(result)).Replace("REJECTED", "[red]REJECTED[/]", StringComparison.Ordinal));
        }

        console.Write(new Padder(verdicts, new Padding(3, 0, 0, 0)));
        await WriteAgreementAsync(o, genesis, consortium, 1, cancellationToken).ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 3. A week later the Hebei regulator suspends the licence").ConfigureAwait(false);
        await consortium.WaitUntilIdleAsync(cancellationToken).ConfigureAwait(false); // every node has dropped the rejected transaction
        clock.Advance(TimeSpan.FromDays(7));
        var suspend = Tx(2, 1, new LicenceSuspend(licenceId, "Inspection found the premises closed"));
        var suspended = await consortium.SubmitAsync(TransactionCodec.Encode(suspend), waitForCommit: true, cancellationToken).ConfigureAwait(false);
        await o.WriteLineAsync($"   {suspend.Kind} {Verdict(suspended)}").ConfigureAwait(false);
        await WriteAgreementAsync(o, genesis, consortium, 2, cancellationToken).ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 4. A bank asks for receipts it can check offline, with nothing but the genesis file").ConfigureAwait(false);
        var licenceReceipt = await reference.ProveStateAsync(StateKeys.Licence(licenceId), cancellationToken).ConfigureAwait(false);
        var recordReceipt = (await reference.ProveTransactionAsync(record.Hash(domain), cancellationToken).ConfigureAwait(false))!;
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
        var xiongan = consortium.Nodes[^1].Node;
        var store = xiongan.Queries;
        var head = xiongan.Head;
        await o.WriteLineAsync($"   head {head.Height} ({head.HeadHash}), {head.HistorySize} transactions in the history").ConfigureAwait(false);
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
        await o.WriteLineAsync("== 6. A validator goes down and comes back").ConfigureAwait(false);
        var height = await DemoFailover.RunAsync(genesis, consortium, Tx(0, 1, DemoFailover.SecondRecord(suite, Company, decided)), o, cancellationToken).ConfigureAwait(false);
        await WriteAgreementAsync(o, genesis, consortium, height, cancellationToken).ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        var anchored = consortium.Nodes[0].Name;
        await DemoAnchoring.RunAsync(genesis, stores[anchored], Path.Combine(dataDirectory, anchored), anchoring, outDir, smartcity, o, cancellationToken).ConfigureAwait(false);

        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync("== 8. Check the receipts yourself").ConfigureAwait(false);
        await o.WriteLineAsync($"   {smartcity} receipt verify --file {Path.Combine(outDir, "licence-status.json")} --genesis {Path.Combine(outDir, "genesis.json")}").ConfigureAwait(false);
        await o.WriteLineAsync($"   {smartcity} receipt verify --file {Path.Combine(outDir, "credit-record-inclusion.json")} --genesis {Path.Combine(outDir, "genesis.json")}").ConfigureAwait(false);
    }

    /// <summary>What became of a submission: refused at admission, rejected by a rule in its block, or committed.</summary>
    private static string Verdict(SubmitResult result) => result switch
    {
        { IsAccepted: false } => $"REJECTED {result.Code}: {result.Reason}",
        { Outcome.State: TransactionState.Rejected } => $"REJECTED {result.Outcome.Rule}: {result.Outcome.Reason}",
        { Outcome.State: TransactionState.Committed } => $"accepted, committed in block {result.Outcome.Height}",
        _ => $"accepted, {result.Outcome?.State.ToString().ToLowerInvariant() ?? "pending"}",
    };

    /// <summary>
    /// One node runtime per genesis validator, each on its own embedded store with its own consensus journal, agreeing
    /// by QBFT over an in-process network (<see cref="InProcessConsortium.StartQbftAsync"/>). Block times come from the
    /// tour's clock; round timers run on the real one.
    /// </summary>
    private static async Task<InProcessConsortium> StartConsortiumAsync(GenesisDocument genesis, ISignatureScheme curve, string dataDirectory, TimeProvider clock, DemoKeys keys, System.Collections.Concurrent.ConcurrentDictionary<string, Ledger.Storage.ILedgerStore> stores, CancellationToken cancellationToken)
    {
        var members = new List<QbftConsortiumMember>();
        for (var i = 0; i < genesis.Validators.Count; i++)
        {
            var region = genesis.Validators[i].Region;
            var directory = Path.Combine(dataDirectory, region);
            await using (var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory }, cancellationToken).ConfigureAwait(false))
            {
                if (await store.GetHeadAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                    throw new DemoSetupException($"{directory} already holds a chain; the tour starts from genesis in an empty directory");
                }
            }

            members.Add(new QbftConsortiumMember(
                region,
                keys.Validators[i],
                async ct => stores[region] = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory }, ct).ConfigureAwait(false),
                Path.Combine(dataDirectory, region + ".qbft-journal")));
        }

        return await InProcessConsortium.StartQbftAsync(genesis, members, new LedgerNodeSetup { Genesis = genesis, Store = null!, Curve = curve, Time = clock } /* each member's store replaces Store */, DemoQbft, TimeProvider.System, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Short rounds (a silent proposer costs about two seconds); nothing in the tour waits on a timer unless the machine is too slow for round 0.</summary>
    private static readonly QbftParameters DemoQbft = new() { BaseRoundTimeout = TimeSpan.FromSeconds(2), MaxRoundTimeout = TimeSpan.FromSeconds(8) };

    private static async Task WriteAgreementAsync(TextWriter o, GenesisDocument genesis, InProcessConsortium consortium, long height, CancellationToken cancellationToken)
    {
        await consortium.WaitForHeightAsync(height, cancellationToken).ConfigureAwait(false);
        var block = await consortium.Nodes[0].Node.GetBlockEventAsync(height, cancellationToken).ConfigureAwait(false);
        var header = block.Header;
        var proposer = genesis.Validators.First(v => v.Address == header.Proposer).Region;
        await o.WriteLineAsync($"   block {header.Height}: proposed by {proposer}, {header.TransactionCount} transactions, header {header.Hash}").ConfigureAwait(false);
        await o.WriteLineAsync($"   certificate: {block.Certificate.Seals.Length} seals (quorum {consortium.Nodes[0].Node.Anchor.Validators.Quorum}); history size {header.HistorySize}").ConfigureAwait(false);
        foreach (var (region, node) in consortium.Nodes)
        {
            var head = node.Head;
            await o.WriteLineAsync($"   {region} head {head.Height} state root {head.StateRoot}").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The tour's clock: the consortium's block times are what the story says, a month after genesis and a week later
    /// (it stands still in between; each block is still strictly after its parent), so every run prints the same hashes.
    /// </summary>
    private sealed class DemoClock(DateTimeOffset start) : TimeProvider
    {
        private long _ticks = start.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}

/// <summary>
/// The sample genesis's public test keys (contracts/genesis/README.md: the integers 1-6 for the members in file order,
/// 101-104 for the validators) as development keystores (<see cref="DevelopmentKeystores"/>, password
/// <c>smartcity-dev</c> in a 0600 file beside them), opened through <see cref="KeySource.OpenSigner"/> with the address
/// the genesis expects, as a production node opens its key. Development only. Disposing zeroes every key.
/// </summary>
internal sealed class DemoKeys : IDisposable
{
    private DemoKeys(List<KeySigner> members, List<KeySigner> validators)
    {
        Members = members;
        Validators = validators;
    }

    public IReadOnlyList<KeySigner> Members { get; }

    public IReadOnlyList<KeySigner> Validators { get; }

    /// <summary>Writes the keystores (keys of <paramref name="suite"/>) into <paramref name="directory"/> unless they are there, then opens them.</summary>
    public static DemoKeys Open(GenesisDocument genesis, CryptoSuite suite, string directory)
    {
        var password = Path.Combine(directory, "password");
        if (!File.Exists(Path.Combine(directory, "validator-bj.json")))
        {
            DevelopmentKeystores.WriteSampleGenesisKeys(directory, suite: suite.Id);
            File.WriteAllText(password, DevelopmentKeystores.Password + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(password, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        var members = new List<KeySigner>();
        var validators = new List<KeySigner>();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                members.Add(Open(Path.Combine(directory, $"member-{i + 1}.json"), password, genesis.Members[i].Address, suite));
            }

            foreach (var validator in genesis.Validators.Take(4))
            {
                validators.Add(Open(Path.Combine(directory, $"validator-{validator.Region.ToLowerInvariant()}.json"), password, validator.Address, suite));
            }
        }
        catch (KeySourceException e)
        {
            members.Concat(validators).ToList().ForEach(s => s.Dispose());
            throw new DemoSetupException($"the development keystores: {e.Message}");
        }

        return new DemoKeys(members, validators);
    }

    public void Dispose()
    {
        foreach (var signer in Members.Concat(Validators))
        {
            signer.Dispose();
        }
    }

    private static KeySigner Open(string keystore, string password, Address expected, CryptoSuite suite)
        => KeySource.OpenSigner(new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = keystore, Password = new SecretSourceOptions { File = password } } }, expected, chainScheme: suite.Signatures);
}
