using System.Text;
using Npgsql;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Node.Tests.Score;

/// <summary>
/// Score(subject, height) over certified chains and stores: the same number on every node and from both stores, and
/// never a different answer for a past height once new blocks arrive.
/// </summary>
public sealed class TrustScoresTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string IdNumber = "11010519491231002X";
    private static readonly DateTimeOffset T0 = GenesisBuilder.Sample.Value.GenesisTime;
    private static readonly Subject Company = Subject.Parse(TestKeys.Company).Value;
    private static readonly Subject Person = new SubjectKeyDerivation(Encoding.ASCII.GetBytes("consortium secret for tests only, 32+ bytes")).Derive(ResidentIdNumber.Parse(IdNumber).Value);
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-score-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Every_node_gives_the_same_score_for_a_subject_at_every_height()
    {
        var consortium = new ScoreConsortium(Secp256k1.Default, ManagedSecp256k1.Instance, Secp256k1.Default);
        await AddHistoryAsync(consortium);

        for (var height = 0L; height <= consortium[0].Head.Height; height++)
        {
            foreach (var subject in new[] { Company, Person })
            {
                var answers = Enumerable.Range(0, consortium.Count).Select(n => Json(consortium[n].Score(subject, height))).ToList();
                Assert.All(answers, a => Assert.Equal(answers[0], a));
            }
        }
    }

    [Fact]
    public async Task The_score_at_a_past_height_never_changes_when_new_blocks_arrive()
    {
        var consortium = new ScoreConsortium();
        var answered = new List<(Subject Subject, long Height, string Json)>();
        var blocks = History().ToList();
        var seen = new HashSet<int>();
        foreach (var (time, transactions) in blocks)
        {
            await consortium.AddBlockAsync(time, transactions);
            var head = consortium[0].Head.Height;
            foreach (var (subject, height, json) in answered)
            {
                Assert.Equal(json, Json(consortium[0].Score(subject, height)));
            }

            foreach (var subject in new[] { Company, Person })
            {
                var score = consortium[0].Score(subject, head);
                answered.Add((subject, head, Json(score)));
                seen.Add(score.Score!.Score);
            }
        }

        Assert.True(seen.Count >= 5, "the history should move the scores: " + string.Join(", ", seen));
    }

    [Fact]
    public async Task The_embedded_store_gives_the_chains_score_at_its_head_and_at_every_past_height_by_replay_from_genesis()
    {
        await using var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None);
        await AssertStoreScoresLikeTheChainAsync(store);
    }

    [PostgresFact]
    public async Task The_PostgreSQL_store_gives_the_chains_score_at_its_head_and_at_every_past_height_by_replay_from_genesis()
    {
        var schema = $"{postgres.Schema}_score";
        try
        {
            await using var store = await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = schema }, CancellationToken.None);
            await AssertStoreScoresLikeTheChainAsync(store);
        }
        finally
        {
            await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task An_empty_store_and_a_height_beyond_the_head_are_typed_failures()
    {
        await using var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None);
        var empty = await TrustScores.ScoreAsync(store, Company, null, null, CancellationToken.None);
        Assert.Equal(ScoreFailure.EmptyStore, empty.Failure);

        var chain = new ScoreConsortium()[0];
        Assert.Equal(ScoreFailure.UnknownHeight, chain.Score(Company, 1).Failure);
        Assert.Equal(ScoreFailure.UnknownHeight, chain.Score(Company, -1).Failure);
        Assert.True(chain.Score(Company, 0).IsScored);
    }

    [Fact]
    public async Task A_replay_from_another_consortiums_genesis_is_a_typed_failure_and_one_from_an_empty_store_too()
    {
        await using var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None);
        var empty = await TrustScores.ScoreByReplayAsync(store, GenesisBuilder.Sample.Value, Secp256k1.Default, Company, 0, null, CancellationToken.None);
        Assert.Equal(ScoreFailure.EmptyStore, empty.Failure);

        var consortium = new ScoreConsortium();
        await consortium.AddNodeWithStoreAsync(store);
        await AddHistoryAsync(consortium);
        var other = new GenesisBuilder().WithMember(TestKeys.Outsider, MemberRoles.All).TestObject;

        var result = await TrustScores.ScoreByReplayAsync(store, other, Secp256k1.Default, Company, 2, null, CancellationToken.None);

        Assert.Equal(ScoreFailure.GenesisMismatch, result.Failure);
        Assert.Contains(consortium[0].Blocks[0].Header.Hash.ToString(), result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_resident_id_number_is_in_any_block_state_value_or_score_answer_about_a_natural_person()
    {
        await using var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None);
        var consortium = new ScoreConsortium();
        await consortium.AddNodeWithStoreAsync(store);
        await AddHistoryAsync(consortium);

        var haystacks = new List<byte[]>();
        for (var height = 0L; height <= consortium[0].Head.Height; height++)
        {
            var block = (await store.GetBlockAsync(height, CancellationToken.None))!;
            haystacks.Add(block.Header.Header.ToArray());
            haystacks.Add(block.Header.Certificate.ToArray());
            haystacks.AddRange(block.Transactions.Select(t => t.Bytes.ToArray()));
            var answer = consortium[0].Score(Person, height).Score!;
            haystacks.Add(Encoding.UTF8.GetBytes(TrustScoreJson.Write(answer)));
            haystacks.Add(Encoding.UTF8.GetBytes(answer.ToString()));
        }

        await foreach (var entry in store.EnumerateStateAsync(CancellationToken.None))
        {
            haystacks.Add(entry.Value.ToArray());
        }

        haystacks.Add(Encoding.UTF8.GetBytes(TrustScoreJson.Write((await TrustScores.ScoreAsync(store, Person, null, null, CancellationToken.None)).Score!)));
        Assert.Contains(haystacks, h => h.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Person.Text)) >= 0); // the scan sees the person's records
        foreach (var needle in new[] { IdNumber, IdNumber.ToLowerInvariant(), IdNumber[..17], "19491231", "110105194912" })
        {
            var bytes = Encoding.UTF8.GetBytes(needle);
            Assert.DoesNotContain(haystacks, h => h.AsSpan().IndexOf(bytes) >= 0);
        }
    }

    private static async Task AssertStoreScoresLikeTheChainAsync(ILedgerStore store)
    {
        var consortium = new ScoreConsortium();
        var chain = await consortium.AddNodeWithStoreAsync(store);
        await AddHistoryAsync(consortium);
        var head = chain.Head.Height;

        foreach (var subject in new[] { Company, Person })
        {
            var fromStore = await TrustScores.ScoreAsync(store, subject, null, null, CancellationToken.None);
            var atHead = await TrustScores.ScoreAsync(store, subject, head, null, CancellationToken.None);
            Assert.Equal(Json(chain.Score(subject, head)), Json(fromStore));
            Assert.Equal(Json(fromStore), Json(atHead));
        }

        var past = await TrustScores.ScoreAsync(store, Company, head - 1, null, CancellationToken.None);
        Assert.Equal(ScoreFailure.HeightNotKept, past.Failure);
        Assert.Contains($"({head})", past.Detail, StringComparison.Ordinal);
        Assert.Equal(ScoreFailure.UnknownHeight, (await TrustScores.ScoreAsync(store, Company, head + 1, null, CancellationToken.None)).Failure);

        // A past height the store does not keep the state of: its blocks re-executed from genesis give the chain's answer.
        for (var height = 0L; height <= head; height++)
        {
            foreach (var subject in new[] { Company, Person })
            {
                var replayed = await TrustScores.ScoreByReplayAsync(store, GenesisBuilder.Sample.Value, Secp256k1.Default, subject, height, null, CancellationToken.None);
                Assert.Equal(Json(chain.Score(subject, height)), Json(replayed));
            }
        }

        Assert.Equal(ScoreFailure.UnknownHeight, (await TrustScores.ScoreByReplayAsync(store, GenesisBuilder.Sample.Value, Secp256k1.Default, Company, head + 1, null, CancellationToken.None)).Failure);
    }

    private static string Json(ScoreResult result)
    {
        Assert.True(result.IsScored, result.Detail);
        return TrustScoreJson.Write(result.Score!);
    }

    private static async Task AddHistoryAsync(ScoreConsortium consortium)
    {
        foreach (var (time, transactions) in History())
        {
            await consortium.AddBlockAsync(time, transactions);
        }
    }

    /// <summary>Six blocks over three years: every kind of record for a company and a person, a repair, an objection and its answer, listings and a removal.</summary>
    private static IEnumerable<(DateTimeOffset Time, (TestKey, ITransactionBody)[] Transactions)> History()
    {
        var serious = Build.A.CreditRecord.WithId(Build.Id("chain serious")).By(TestKeys.BeijingRegulator).For(Company).Penalty(Severity.Serious, 36).DecidedAt(T0);
        var moderate = Build.A.CreditRecord.WithId(Build.Id("chain moderate")).By(TestKeys.BeijingRegulator).For(Company).Penalty(Severity.Moderate, 12).DecidedAt(T0);
        var tax = Build.A.CreditRecord.WithId(Build.Id("chain tax")).By(TestKeys.HebeiRegulator).For(Company).InDivision("130102").Of(RecordCategory.TaxGrade, 12, "A").DecidedAt(T0);
        var personal = Build.A.CreditRecord.WithId(Build.Id("chain personal")).By(TestKeys.BeijingCourt).For(Person).Of(RecordCategory.CourtDefaulter, 24).DecidedAt(T0);
        var honour = Build.A.CreditRecord.WithId(Build.Id("chain honour")).By(TestKeys.TianjinRegulator).For(Person).InDivision("120101").Of(RecordCategory.Honour, 36).DecidedAt(T0);
        var memorandum = Build.A.Memorandum.WithId(Build.Id("chain memorandum"));
        var listing = Build.A.ListEntry.WithId(Build.Id("chain listing")).By(TestKeys.BeijingCourt).For(Person.Text);
        var red = Build.A.ListEntry.WithId(Build.Id("chain red")).By(TestKeys.TianjinRegulator).For(Company.Text).InDivision("120101").On(ListColour.Red, "a-grade-taxpayer");

        yield return (T0.AddDays(1), [Tx(serious), Tx(moderate), Tx(tax), Tx(personal), Tx(honour), Tx(memorandum), Tx(listing)]);
        yield return (T0.AddMonths(4), [(TestKeys.BeijingRegulator, new CreditRecordRepair(moderate.Id, "rectified")), (TestKeys.TianjinRegulator, new ObjectionFile(Build.Id("chain objection"), tax.Id, Build.Id("grounds")))]);
        yield return (T0.AddMonths(5), [(TestKeys.HebeiRegulator, new ObjectionResolve(Build.Id("chain objection"), ObjectionOutcome.Upheld, Build.Id("answer"))), Tx(red)]);
        yield return (T0.AddMonths(14), [(TestKeys.BeijingCourt, new ListEntryRemove(listing.Id, "the debtor performed"))]);
        yield return (T0.AddMonths(26), []);
        yield return (T0.AddMonths(40), []);
    }

    private static (TestKey, ITransactionBody) Tx<T>(TransactionBuilder<T> builder)
        where T : TransactionBuilder<T>
        => (builder.Signer, builder.Body());
}
