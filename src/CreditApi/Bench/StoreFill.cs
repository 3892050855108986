using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.CreditApi.Node;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Memory;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;

namespace SmartCity.CreditApi.Bench;

/// <summary>What <c>smartcity bench fill</c> is asked to write.</summary>
/// <param name="Directory">The setup's directory (genesis, keys, node config, summary; the embedded store under data/).</param>
/// <param name="Postgres">A PostgreSQL connection string (the store goes to the node's schema there), or null for the embedded store.</param>
/// <param name="Transactions">Transactions to reach (the chain's history size after the fill).</param>
/// <param name="BlockSize">Transactions per block.</param>
/// <param name="Signers">Members that sign, each with its own nonces.</param>
/// <param name="Validators">1 (a single-validator chain) or 4 (a consortium's genesis; blocks carry a quorum of 3 seals).</param>
/// <param name="Suite">The chain's crypto suite.</param>
/// <param name="Retention">State versions the node keeps (the config's retention.stateVersions; 0 keeps every version).</param>
/// <param name="Subjects">Enterprises the records, licences and list entries are about (fixed by the setup: a resumed fill keeps the first run's).</param>
public sealed record StoreFillOptions(string Directory, string? Postgres, long Transactions, int BlockSize, int Signers, int Validators, CryptoSuiteId Suite, int Retention, int Subjects = 100_000);

/// <summary>The fill's result, also written to <c>fill.json</c> in the setup's directory.</summary>
public sealed record StoreFillSummary(long Head, string HeadHash, string StateRoot, long Transactions, long Blocks, long CreditRecords, long Licences, long ListEntries,
    int Signers, int Subjects, int Validators, string Crypto, string Store, double Seconds, double TransactionsPerSecond, string LoadAverage)
{
    public const string FileName = "fill.json";

    /// <summary>State keys the fill's transactions created: one per record, licence and list entry, one index per subject, one nonce per signer.</summary>
    public long StateKeys => CreditRecords + Licences + ListEntries + Math.Min(Subjects, CreditRecords + ListEntries) + Signers;
}

/// <summary>
/// Writes a real, valid, certified chain fast (<c>smartcity bench fill</c>): a development setup as <c>smartcity init</c>
/// writes it (genesis, encrypted validator keystores, node config), with <see cref="StoreFillOptions.Signers"/>
/// benchmark members added to the genesis; then blocks of signed transactions — signed and signature-checked across the
/// cores while the previous block is assembled — built by the engine's <see cref="BlockAssembler"/> on a
/// <see cref="LedgerChain"/> opened from the node's store, sealed by a quorum of the genesis validators' keystore keys,
/// and committed through <see cref="LedgerChain.CommitAsync"/>, the node's own write path (state-tree nodes, history
/// nodes, projections, retention). Nothing is skipped: every block passes <c>smartcity store verify</c> and the chain
/// audit, and a node opened on the setup's config continues the chain.
/// </summary>
/// <remarks>
/// The load is deterministic in the transaction's position <c>i</c> in the history: signer <c>i mod S</c> at nonce
/// <c>i div S</c>; 8 in 10 are credit records (about <c>max(1, N/10)</c> enterprises, so a subject gathers ~8 records), 1 in
/// 10 a licence issue, 1 in 10 a list entry — about one new state key per transaction. So an interrupted fill resumes
/// from the store's head (<c>--resume</c>). The benchmark members' keys are derived from small numbers: public knowledge,
/// a benchmark's chain only.
/// </remarks>
public sealed class StoreFill(StoreFillOptions options, TextWriter log)
{
    private const int KeySeedBase = 0x5D_0000;
    private const int UsccSequenceBase = 700_000;

    /// <summary>Writes the setup (or, with <paramref name="resume"/>, reopens it) and fills its store up to the options' transaction count.</summary>
    public async Task<StoreFillSummary> RunAsync(string sampleGenesisText, bool resume, CancellationToken cancellationToken)
    {
        var configPath = Path.Combine(options.Directory, "node-bj.json");
        if (!resume)
        {
            await WriteSetupAsync(sampleGenesisText, cancellationToken).ConfigureAwait(false);
        }
        else if (!File.Exists(configPath))
        {
            throw new BenchSetupException($"--resume: {options.Directory} holds no fill setup (no node-bj.json)");
        }

        using var startup = await NodeConfigLoader.LoadAsync(configPath, cancellationToken).ConfigureAwait(false);
        var genesis = startup.Genesis;
        var curve = genesis.Crypto.CreateSuite().Signatures;
        var validators = OpenValidators(genesis, curve);
        var signers = Signers(genesis, curve);
        var shape = Path.Combine(options.Directory, FillLoadShape.FileName);
        var subjects = File.Exists(shape)
            ? JsonSerializer.Deserialize<FillLoadShape>(await File.ReadAllTextAsync(shape, cancellationToken).ConfigureAwait(false))!.Subjects
            : throw new BenchSetupException($"{options.Directory} has no {FillLoadShape.FileName}: it was not written by `bench fill`");
        // The node's memory budget, as `smartcity node` keeps it (the fill measures the node's memory), kept until the
        // store has closed.
        var budget = startup.Config.ToMemoryBudget();
        MemoryGovernor? governor = null;
        try
        {
            ILedgerStore store = startup.Postgres is { } postgres
                ? await PostgresLedgerStore.OpenAsync(postgres, cancellationToken).ConfigureAwait(false)
                : await EmbeddedLedgerStore.OpenAsync(startup.Embedded!, cancellationToken).ConfigureAwait(false);
            await using (store.ConfigureAwait(false))
            {
                var chain = await LedgerChain.OpenAsync(genesis, curve, store, startup.Config.ToChainOptions(), cancellationToken).ConfigureAwait(false);
                governor = budget is null ? null : new MemoryGovernor(budget, chain.ResizeCaches, NullLogger.Instance).Start();
                return await FillAsync(chain, store, startup.StoreKind, signers, subjects, validators, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (governor is not null)
            {
                await governor.DisposeAsync().ConfigureAwait(false);
                await log.WriteLineAsync(governor.Describe()).ConfigureAwait(false);
            }

            foreach (var key in validators)
            {
                key.Dispose();
            }

            foreach (var key in signers)
            {
                key.Dispose();
            }
        }
    }

    private async Task WriteSetupAsync(string sampleGenesisText, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(options.Directory, "genesis.json")))
        {
            throw new BenchSetupException($"{options.Directory} already holds a setup: choose an empty --store directory, or add --resume to continue its fill");
        }

        string[] regions = options.Validators == 1 ? ["BJ"] : ["BJ", "TJ", "HE", "XA"];
        // A consortium's configs name each other's fixed ports; the fill never listens, a node started later may.
        var setup = await LocalSetup.WriteAsync(options.Directory, sampleGenesisText, regions, regions.Length == 1 ? 0 : 7400, options.Postgres, options.Suite, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        var genesis = JsonNode.Parse(await File.ReadAllTextAsync(setup.GenesisPath, cancellationToken).ConfigureAwait(false))!.AsObject();
        var suite = CryptoSuite.For(options.Suite);
        var members = genesis["members"]!.AsArray();
        for (var i = 0; i < options.Signers; i++)
        {
            using var key = SignerKey(i, suite.Signatures);
            members.Add(new JsonObject
            {
                ["address"] = key.Address.ToString(),
                ["uscc"] = MemberUscc(i),
                ["name"] = string.Create(CultureInfo.InvariantCulture, $"benchmark member {i}"),
                ["region"] = "BJ",
                ["roles"] = new JsonArray("CreditDesignator", "LicenceIssuer", "ListInitiator"),
            });
        }

        if (options.BlockSize > genesis["parameters"]!["maxBlockTransactions"]!.GetValue<int>())
        {
            genesis["parameters"]!["maxBlockTransactions"] = options.BlockSize;
        }

        await File.WriteAllTextAsync(setup.GenesisPath, genesis.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken).ConfigureAwait(false);
        foreach (var (_, config, _) in setup.Nodes)
        {
            var node = JsonNode.Parse(await File.ReadAllTextAsync(config, cancellationToken).ConfigureAwait(false))!.AsObject();
            node["retention"] = new JsonObject { ["stateVersions"] = options.Retention };
            await File.WriteAllTextAsync(config, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken).ConfigureAwait(false);
        }

        await File.WriteAllTextAsync(Path.Combine(options.Directory, FillLoadShape.FileName), JsonSerializer.Serialize(new FillLoadShape(options.Subjects)) + "\n", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What a resumed fill must keep from the first run (<c>fill-load.json</c>): the transactions depend on it.</summary>
    private sealed record FillLoadShape(int Subjects)
    {
        public const string FileName = "fill-load.json";
    }

    private async Task<StoreFillSummary> FillAsync(LedgerChain chain, ILedgerStore store, string storeKind, InMemorySigner[] signers, int subjects, KeySigner[] validators, CancellationToken cancellationToken)
    {
        var load = new FillLoad(chain.Genesis, chain.Domain, signers, subjects);
        var quorum = chain.Anchor.Validators.Quorum;
        var verifier = new SignatureBatchVerifier(chain.Machine.Suite.Signatures, cache: null);
        var clock = Stopwatch.StartNew();
        var startSize = chain.Head.HistorySize;
        var next = startSize;
        var lastBlockTime = DateTimeOffset.FromUnixTimeMilliseconds(chain.Head.TimestampMs);
        await log.WriteLineAsync($"filling {storeKind} store to {options.Transactions:N0} transactions from {startSize:N0} (blocks of {options.BlockSize}, {signers.Length} signers, {load.Subjects:N0} subjects, {validators.Length} of {chain.Anchor.Validators.Count} validators seal, {chain.Suite.Name}; load {ClusterBench.LoadAverage()})").ConfigureAwait(false);
        await log.WriteLineAsync($"  {CollectorSettings.Describe()}").ConfigureAwait(false);

        Task<List<VerifiedTransaction>> Prepare(long first)
        {
            var count = (int)Math.Min(options.BlockSize, options.Transactions - first);
            return Task.Run(() => load.SignAndVerify(first, count, verifier, cancellationToken), cancellationToken);
        }

        var pending = next < options.Transactions ? Prepare(next) : null;
        var lastReport = clock.Elapsed;
        while (pending is not null)
        {
            var transactions = await pending.ConfigureAwait(false);
            next += transactions.Count;
            pending = next < options.Transactions ? Prepare(next) : null;

            var now = DateTimeOffset.UtcNow;
            var blockTime = now > lastBlockTime ? now : lastBlockTime.AddMilliseconds(1);
            var candidate = chain.Assembler.Assemble(chain.HeadForBuilding, transactions, blockTime, 0);
            if (candidate.Body.Included.Count != transactions.Count)
            {
                var skipped = candidate.Body.Skipped.FirstOrDefault();
                throw new InvalidOperationException($"block {candidate.Header.Height} left {transactions.Count - candidate.Body.Included.Count} of the fill's transactions out (first: {skipped})");
            }

            var seals = validators.Take(quorum).Select(v => chain.Seal(candidate, v)).ToArray();
            var certificate = CommitCertificate.FromSeals(chain.Machine.Suite.Signatures, chain.Anchor.DomainSeparator, candidate.Header, seals);
            var verdict = await chain.CommitAsync(candidate, certificate, store, cancellationToken).ConfigureAwait(false);
            if (!verdict.IsValid)
            {
                throw new InvalidOperationException($"block {candidate.Header.Height} was refused: {verdict.Check}: {verdict.Reason}");
            }

            lastBlockTime = blockTime;
            if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(10) || pending is null)
            {
                lastReport = clock.Elapsed;
                var rate = (next - startSize) / clock.Elapsed.TotalSeconds;
                await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  block {chain.Head.Height}: {next:N0} / {options.Transactions:N0} transactions, {rate:N0} tx/s, RSS {Environment.WorkingSet >> 20:N0} MiB (GC heap {GC.GetGCMemoryInfo().TotalCommittedBytes >> 20:N0} MiB, native tables {NativeTableMemory.Bytes >> 20:N0} MiB), load {ClusterBench.LoadAverage()}")).ConfigureAwait(false);
            }
        }

        var (records, licences, entries) = FillLoad.Counts(chain.Head.HistorySize);
        var seconds = clock.Elapsed.TotalSeconds;
        var summary = new StoreFillSummary(chain.Head.Height, chain.Head.Hash.ToString(), chain.Head.StateRoot.ToString(), chain.Head.HistorySize, chain.Head.Height,
            records, licences, entries, signers.Length, load.Subjects, chain.Anchor.Validators.Count, chain.Suite.Name, storeKind, Math.Round(seconds, 1),
            Math.Round((chain.Head.HistorySize - startSize) / Math.Max(seconds, 1e-9)), ClusterBench.LoadAverage());
        await File.WriteAllTextAsync(Path.Combine(options.Directory, StoreFillSummary.FileName), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken).ConfigureAwait(false);
        return summary;
    }

    /// <summary>The genesis validators' keys from the setup's keystores (the password file <c>init</c> wrote).</summary>
    private KeySigner[] OpenValidators(GenesisDocument genesis, ISignatureScheme curve)
    {
        var password = Path.Combine(options.Directory, "keys", "password");
        return [.. genesis.Validators.Select(v => KeySource.OpenSigner(
            new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = Path.Combine(options.Directory, "keys", $"{v.Name}.json"), Password = new SecretSourceOptions { File = password } } },
            v.Address,
            chainScheme: curve))];
    }

    /// <summary>The benchmark members of the genesis (those named "benchmark member N"), in order.</summary>
    private static InMemorySigner[] Signers(GenesisDocument genesis, ISignatureScheme curve)
    {
        var count = genesis.Members.Count(m => m.Name.StartsWith("benchmark member ", StringComparison.Ordinal));
        if (count == 0)
        {
            throw new BenchSetupException("the setup's genesis has no benchmark members: it was not written by `bench fill`");
        }

        var keys = new InMemorySigner[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = SignerKey(i, curve);
        }

        return keys;
    }

    private static InMemorySigner SignerKey(int index, ISignatureScheme curve)
    {
        Span<byte> secret = stackalloc byte[32];
        secret.Clear();
        BinaryPrimitives.WriteInt32BigEndian(secret[28..], KeySeedBase + index);
        try
        {
            return new InMemorySigner(secret, curve);
        }
        finally
        {
            secret.Clear();
        }
    }

    internal static string MemberUscc(int index)
    {
        var first17 = string.Create(CultureInfo.InvariantCulture, $"11110000MB{UsccSequenceBase + index:D7}");
        return first17 + UnifiedSocialCreditCode.CheckCharacter(first17);
    }

    /// <summary>The fill's transactions, each a function of its position in the history.</summary>
    private sealed class FillLoad
    {
        private const string Division = "110105";
        private readonly InMemorySigner[] _signers;
        private readonly string[] _issuerUscc;
        private readonly Eip712Domain _domain;
        private readonly CryptoSuite _suite;
        private readonly ulong _chainId;
        private readonly ulong _decidedAt;
        private readonly ulong _validTo;
        private readonly int _maxBytes;

        public FillLoad(GenesisDocument genesis, Eip712Domain domain, InMemorySigner[] signers, int subjects)
        {
            _signers = signers;
            _domain = domain;
            _suite = domain.Suite;
            _chainId = genesis.ChainId;
            _decidedAt = LedgerTime.ToUnixSeconds(genesis.GenesisTime);
            _validTo = LedgerTime.ToUnixSeconds(genesis.GenesisTime.AddYears(5));
            _maxBytes = genesis.Parameters.MaxTransactionBytes;
            _issuerUscc = [.. Enumerable.Range(0, signers.Length).Select(MemberUscc)];
            Subjects = subjects;
        }

        public int Subjects { get; }

        /// <summary>Of the first <paramref name="size"/> transactions: how many are records, licences and list entries.</summary>
        public static (long Records, long Licences, long Entries) Counts(long size)
        {
            var licences = (size + 1) / 10; // positions 8, 18, 28, …
            var entries = size / 10; // positions 9, 19, 29, …
            return (size - licences - entries, licences, entries);
        }

        /// <summary>Signs transactions <paramref name="first"/> … first + count − 1 and checks their signatures, across the cores.</summary>
        public List<VerifiedTransaction> SignAndVerify(long first, int count, SignatureBatchVerifier verifier, CancellationToken cancellationToken)
        {
            var decoded = new DecodedTransaction[count];
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken }, k =>
            {
                var i = first + k;
                var signer = (int)(i % _signers.Length);
                var signed = SignedTransaction.Sign(_signers[signer], _domain, _chainId, (ulong)(i / _signers.Length), Body(i, signer));
                var bytes = TransactionCodec.Encode(signed);
                var intake = TransactionIntake.Decode(bytes, _chainId, _domain, _maxBytes);
                decoded[k] = intake.Transaction ?? throw new InvalidOperationException($"the fill's transaction {i} does not decode: {intake.Code}: {intake.Reason}");
            });
            var results = new IntakeResult<VerifiedTransaction>[count];
            TransactionIntake.Verify(decoded, _domain, verifier, results);
            var verified = new List<VerifiedTransaction>(count);
            foreach (var result in results)
            {
                verified.Add(result.Transaction ?? throw new InvalidOperationException($"the fill's transaction {result.Hash} failed its signature check: {result.Code}: {result.Reason}"));
            }

            return verified;
        }

        private ITransactionBody Body(long i, int signer)
        {
            var id = _suite.Hash(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"bench/fill/{i}")));
            var subject = Subject((int)(i / 10 * 7919 % Subjects));
            return (i % 10) switch
            {
                8 => new LicenceIssue(LicenceIdentifier.Compose("11100000000013338W032", _issuerUscc[signer], string.Create(CultureInfo.InvariantCulture, $"{i:D12}"), 1),
                    subject, "Business licence", Division, _decidedAt, _validTo, id),
                9 => new ListEntryAdd(id, subject, (i / 10 % 2 == 0) ? ListColour.Black : ListColour.Red, i / 10 % 2 == 0 ? "court-defaulter" : "tax-a-grade",
                    "Supreme People's Court Provisions on the list of defaulters, art. 1", Division, _decidedAt, 0),
                _ => new CreditRecordSubmit(id, Subject((int)(i * 7919 % Subjects)), RecordCategory.AdministrativePenalty, (i % 3) switch { 0 => Severity.Minor, 1 => Severity.Moderate, _ => Severity.Serious },
                    Division, _decidedAt, (i % 3) switch { 0 => 3u, 1 => 6u, _ => 24u }, "Administrative Penalty Law, art. 28", string.Empty, id),
            };
        }

        private static string Subject(int index)
        {
            var first17 = string.Create(CultureInfo.InvariantCulture, $"91110105M{index:D8}");
            return "uscc:" + first17 + UnifiedSocialCreditCode.CheckCharacter(first17);
        }
    }
}
