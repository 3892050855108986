using System.Text.Json.Nodes;
using Npgsql;
using SmartCity.CreditApi.Cli;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Tests.Score;
using SmartCity.Ledger.Score;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.CreditApi.Tests.Cli;

/// <summary><c>smartcity score</c>: the library's answer, as tables or JSON, from either store; bad input is one line and exit code 2.</summary>
public sealed class ScoreCommandTests : IDisposable
{
    private static readonly DateTimeOffset T0 = GenesisBuilder.Sample.Value.GenesisTime;
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-score-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Scores_a_subject_from_an_embedded_store_as_tables_with_reasons_member_names_lists_and_the_notice()
    {
        var expected = await FillAsync(await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None));

        var (exit, output, error) = await Run("score", TestKeys.Company, "--store", _directory);

        Assert.Equal((0, ""), (exit, error));
        Assert.Contains($"{expected.Score} of 1000, band D, LISTED", output, StringComparison.Ordinal);
        Assert.Contains("trust-v1", output, StringComparison.Ordinal);
        Assert.Contains($"{expected.Height} ({expected.HeaderHash})", output, StringComparison.Ordinal);
        Assert.Contains("Administrative penalty for a serious violation", output, StringComparison.Ordinal);
        Assert.Contains("严重违法行为行政处罚", output, StringComparison.Ordinal);
        Assert.Contains("Beijing Municipal Administration for Market Regulation", output, StringComparison.Ordinal);
        Assert.Contains("Food Safety Law, art. 124", output, StringComparison.Ordinal);
        Assert.Contains("restrict-high-consumption, ban-public-procurement in BJ, TJ, HE, XA", output, StringComparison.Ordinal);
        Assert.Contains("人工复核", output, StringComparison.Ordinal);
        Assert.Contains("human review", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_json_it_prints_exactly_the_librarys_answer()
    {
        var expected = await FillAsync(await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None));

        var (exit, output, _) = await Run("score", TestKeys.Company, "--store", _directory, "--json", "--height", expected.Height.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(0, exit);
        Assert.Equal(TrustScoreJson.Write(expected) + Environment.NewLine, output);
        Assert.Equal(expected.Score, JsonNode.Parse(output)!["score"]!.GetValue<int>());
    }

    [Fact]
    public async Task With_genesis_it_replays_the_store_to_a_past_height_and_prints_the_librarys_answer_at_that_height()
    {
        var expected = await FillAsync(await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None), height: 2);

        var (exit, output, error) = await Run("score", TestKeys.Company, "--store", _directory, "--height", "2", "--genesis", SampleGenesis, "--json");

        Assert.Equal((0, ""), (exit, error));
        Assert.Equal(TrustScoreJson.Write(expected) + Environment.NewLine, output);
        Assert.Equal(2, JsonNode.Parse(output)!["height"]!.GetValue<long>());
    }

    [PostgresFact]
    public async Task Scores_from_PostgreSQL_the_same_as_the_library()
    {
        var schema = "cli_score_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            var expected = await FillAsync(await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = schema }, CancellationToken.None));

            var (exit, output, error) = await Run("score", TestKeys.Company, "--postgres", PostgresFixture.ConnectionString!, "--schema", schema, "--json");

            Assert.Equal((0, ""), (exit, error));
            Assert.Equal(TrustScoreJson.Write(expected) + Environment.NewLine, output);
        }
        finally
        {
            await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Theory]
    [InlineData("11010519491231002X", "a resident ID number is never used on the ledger")]
    [InlineData("person:11010519491231002X", "a resident ID number is never used on the ledger")]
    [InlineData("110105194912310021", "looks like a resident ID number")]
    [InlineData("91350100M000100Y43", "a legal person is given as uscc:91350100M000100Y43")]
    [InlineData("uscc:91350100M000100Y44", "SUBJECT 'uscc:91350100M000100Y44': WrongCheckCharacter")]
    [InlineData("uscc:91350100M000100Y4Z", "SUBJECT 'uscc:91350100M000100Y4Z': InvalidCharacter")]
    [InlineData("person:0xABC", "SUBJECT 'person:0xABC': InvalidStructure")]
    public async Task A_subject_that_is_not_one_the_ledger_knows_is_one_line_with_exit_code_2(string subject, string expected)
    {
        var (exit, output, error) = await Run("score", subject, "--store", _directory);

        Assert.Equal((2, ""), (exit, output));
        Assert.StartsWith("smartcity score: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Bad_sources_and_heights_are_one_line_with_exit_code_2_and_change_nothing()
    {
        await FillAsync(await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory }, CancellationToken.None));
        var files = Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).Select(f => (f, File.ReadAllBytes(f))).ToList();

        async Task Refused(string expected, params string[] args)
        {
            var (exit, output, error) = await Run(args);
            Assert.Equal((2, ""), (exit, output));
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.Single(error.TrimEnd().Split('\n'));
        }

        await Refused("give exactly one of --store DIR and --postgres", "score", TestKeys.Company);
        await Refused("give exactly one of --store DIR and --postgres", "score", TestKeys.Company, "--store", _directory, "--postgres", "Host=/nowhere");
        await Refused("is not a node's data directory", "score", TestKeys.Company, "--store", Path.Combine(_directory, "missing"));
        await Refused("HeightNotKept: the store keeps the state of its head (6) only", "score", TestKeys.Company, "--store", _directory, "--height", "2");
        await Refused("UnknownHeight: height 7 is not in the store", "score", TestKeys.Company, "--store", _directory, "--height", "7", "--genesis", SampleGenesis);
        await Refused("--genesis: cannot read", "score", TestKeys.Company, "--store", _directory, "--height", "2", "--genesis", Path.Combine(_directory, "missing.json"));
        await Refused("UnknownHeight: height 7 is not in the store", "score", TestKeys.Company, "--store", _directory, "--height", "7");
        await Refused("--height must be 0 or more", "score", TestKeys.Company, "--store", _directory, "--height", "-1");
        await Refused("--postgres:", "score", TestKeys.Company, "--postgres", "Host=/nonexistent-socket-dir;Port=1;Timeout=2", "--schema", "Bad-Name");

        Assert.Equal(files, Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).Select(f => (f, File.ReadAllBytes(f))));
        Assert.False(Directory.Exists(Path.Combine(_directory, "missing")));
    }

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private static string SampleGenesis => RepositoryFiles.PathOf("contracts/genesis/sample-genesis.json");

    /// <summary>Commits six certified blocks about the company to <paramref name="store"/>, closes it, and returns the library's answer at <paramref name="height"/> (default: the head).</summary>
    private static async Task<TrustScore> FillAsync(ILedgerStore store, long? height = null)
    {
        await using (store)
        {
            var consortium = new ScoreConsortium();
            var chain = await consortium.AddNodeWithStoreAsync(store);
            var company = Subject.Parse(TestKeys.Company).Value;
            var serious = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(company).Penalty(Severity.Serious, 36).Citing("Food Safety Law, art. 124").DecidedAt(T0);
            var moderate = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(company).Penalty(Severity.Moderate, 12).DecidedAt(T0);
            var honour = Build.A.CreditRecord.By(TestKeys.TianjinRegulator).For(company).InDivision("120101").Of(RecordCategory.Honour, 36).DecidedAt(T0);
            await consortium.AddBlockAsync(T0.AddDays(1), Tx(serious), Tx(moderate), Tx(honour), Tx(Build.A.Memorandum), Tx(Build.A.ListEntry.By(TestKeys.BeijingCourt).For(company.Text)));
            await consortium.AddBlockAsync(T0.AddMonths(4), (TestKeys.BeijingRegulator, new CreditRecordRepair(moderate.Id, "rectified")));
            await consortium.AddBlockAsync(T0.AddMonths(5), (TestKeys.HebeiRegulator, new ObjectionFile(Build.Id($"cli objection {honour.Id}"), honour.Id, Build.Id("grounds"))));
            await consortium.AddBlockAsync(T0.AddMonths(6));
            await consortium.AddBlockAsync(T0.AddMonths(7));
            await consortium.AddBlockAsync(T0.AddMonths(8));
            return chain.Score(company, height ?? chain.Head.Height).Score!;
        }
    }

    private static (TestKey, ITransactionBody) Tx<T>(TransactionBuilder<T> builder)
        where T : TransactionBuilder<T>
        => (builder.Signer, builder.Body());
}
