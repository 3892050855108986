using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Jobs.Lifecycle;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Jobs.Tests.JobKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>
/// The credit lifecycle scan on both stores with a clock the test moves: a moderate penalty decided 60 days ago and
/// published 6 months (repair from 3 months, DOMAIN.md §5) with an objection filed now (answer due in 20 days).
/// </summary>
public sealed class CreditLifecycleTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Notice = TimeSpan.FromDays(30);
    private readonly string _directory = TempDirectory();

    private string Schema => postgres.Schema + "_lifecycle";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => PostgresFixture.DropSchemaAsync(Schema);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task On_the_embedded_store_each_fact_is_noted_once_when_the_clock_passes_it_and_the_chain_is_not_written()
    {
        var store = await EmbeddedStoreAsync(Path.Combine(_directory, "store"));
        await AssertLifecycleAsync(store, () => new FileJobStateStore(Path.Combine(_directory, "jobs")));
    }

    [PostgresFact]
    public async Task On_postgresql_each_fact_is_noted_once_when_the_clock_passes_it_and_the_chain_is_not_written()
    {
        var options = new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = Schema };
        var store = await PostgresLedgerStore.OpenAsync(options, Deadline());
        var states = new List<PostgresJobStateStore>();
        try
        {
            await AssertLifecycleAsync(store, () =>
            {
                var opened = PostgresJobStateStore.OpenAsync(PostgresFixture.ConnectionString!, Schema, Deadline()).GetAwaiter().GetResult();
                states.Add(opened);
                return opened;
            });
        }
        finally
        {
            foreach (var state in states)
            {
                await state.DisposeAsync();
            }
        }
    }

    [Fact]
    public void A_repaired_penalty_and_an_answered_objection_come_due_for_nothing()
    {
        var now = 1_800_000_000UL;
        var repaired = new Ledger.State.RecordSummary(Build.Id("r"), Build.Id("k"), RecordCategory.AdministrativePenalty, Severity.Moderate, 0, Ledger.State.RecordStatus.Repaired,
            now - (200 * 86_400), 6, now - (100 * 86_400), TestKeys.BeijingRegulator.Address, 0, Hash256.Zero, 0, 0);
        var answered = new Ledger.State.ObjectionState(Build.Id("r"), TestKeys.HebeiRegulator.Address, now - (40 * 86_400), now - (20 * 86_400), Build.Id("g"), ObjectionOutcome.Upheld, now - (30 * 86_400), Build.Id("a"));

        Assert.Empty(CreditLifecycle.Due(repaired, answered, now, 30 * 86_400));
        Assert.True(CreditLifecycle.IsSettled(repaired, answered, now));
    }

    /// <summary>
    /// Commits the penalty and the objection (the node stays open, as it does beside its jobs, and closes the store at the end), then runs the scan as the job does (checkpoint read and saved through
    /// the job state, a new state store per run as after a restart) at five clock readings.
    /// </summary>
    private static async Task AssertLifecycleAsync(ILedgerStore store, Func<IJobStateStore> openState)
    {
        var now = DateTimeOffset.UtcNow;
        var decided = now.AddDays(-60);
        var record = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Penalty(Severity.Moderate, 6).DecidedAt(decided);
        var objectionId = Build.Id("lifecycle objection");
        await using var node = await SoloNodeAsync(store);
        await SubmitAsync(node, record.Signed(0));
        await SubmitAsync(node, TestLedger.Sign(GenesisBuilder.Sample.Value, TestKeys.HebeiRegulator, new ObjectionFile(objectionId, record.Id, Build.Id("grounds")), 0));
        var head = node.Head.Height;

        var decidedSeconds = Ledger.State.LedgerTime.ToUnixSeconds(decided);
        var repairAt = DateTimeOffset.FromUnixTimeSeconds((long)Ledger.State.LedgerTime.AddMonths(decidedSeconds, 3));
        var endsAt = DateTimeOffset.FromUnixTimeSeconds((long)Ledger.State.LedgerTime.AddMonths(decidedSeconds, 6));

        async Task<LifecycleRun> RunAtAsync(DateTimeOffset clock)
        {
            var state = openState();
            var from = LifecycleCheckpoint.FromJson(await state.GetCheckpointAsync("credit-lifecycle", Deadline())) ?? LifecycleCheckpoint.Start;
            var run = await CreditLifecycleScanner.RunAsync(store, state, from, clock, Notice, 100, Deadline());
            await state.SaveCheckpointAsync("credit-lifecycle", run.Checkpoint.ToJson(), Deadline());
            return run;
        }

        var atStart = await RunAtAsync(now);
        var overdue = await RunAtAsync(now.AddDays(21));
        var repairable = await RunAtAsync(repairAt.AddHours(1));
        var again = await RunAtAsync(repairAt.AddHours(2));
        var ending = await RunAtAsync(endsAt - Notice + TimeSpan.FromHours(1));
        var ended = await RunAtAsync(endsAt.AddDays(1));
        var all = await openState().ListNotificationsAsync(0, 100, null, Deadline());

        Assert.Empty(atStart.Written);
        Assert.Equal((head, head), (atStart.Checkpoint.Height, atStart.BlocksScanned));
        Assert.Equal([TestKeys.Company], atStart.Checkpoint.Watched);
        var objection = Assert.Single(overdue.Written);
        Assert.Equal((LifecycleKinds.ObjectionOverdue, record.Id.ToString(), objectionId.ToString()), (objection.Kind, objection.RecordId, objection.ObjectionId));
        Assert.Equal(0L, overdue.BlocksScanned); // resumed from the persisted checkpoint
        Assert.Equal([LifecycleKinds.RepairPossible], repairable.Written.Select(n => n.Kind));
        Assert.Equal(repairAt, repairable.Written[0].DueAt);
        Assert.Empty(again.Written);
        Assert.Equal([LifecycleKinds.PublicationEnding], ending.Written.Select(n => n.Kind));
        Assert.Equal([LifecycleKinds.PublicationEnded], ended.Written.Select(n => n.Kind));
        Assert.Equal(endsAt, ended.Written[0].DueAt);
        Assert.Empty(ended.Checkpoint.Watched); // ended, and the objection already overdue: nothing more can come due
        Assert.Equal([1L, 2L, 3L, 4L], all.Select(n => n.Sequence));
        Assert.All(all, n => Assert.Equal((head, TestKeys.Company, TestKeys.BeijingRegulator.Address.ToString()), (n.Height, n.Subject, n.Designator)));
        Assert.Equal(head, (await store.GetHeadAsync(Deadline()))!.Value.Height); // the job never writes the chain
    }

    private static async Task SubmitAsync(LedgerNode node, SignedTransaction transaction)
    {
        var result = await node.SubmitAsync(TransactionCodec.Encode(transaction), waitForCommit: true, Deadline());
        Assert.Equal(TransactionState.Committed, result.Outcome?.State);
    }
}
