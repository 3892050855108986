using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using SmartCity.Ledger.Jobs.State;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>AuditService.ListReconciliationReports: the integrity jobs' persisted findings, for regulators only.</summary>
public sealed class ReconciliationReportsApiTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task A_regulator_pages_through_the_persisted_reports_and_a_bank_is_refused()
    {
        var at = new DateTimeOffset(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);
        await _api.Ledger.JobState.AppendReportAsync(new JobReport(0, "chain-audit", JobReportKinds.StoreDamage, 7, "", "block 7", "the store cannot read it: CRC mismatch", at), CancellationToken.None);
        await _api.Ledger.JobState.AppendReportAsync(new JobReport(0, "reconciliation", JobReportKinds.PeerDivergence, 9, "he-1", "state root", "block 9 differs", at), CancellationToken.None);
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        var first = await regulator.Audit.ListReconciliationReportsAsync(new ListReconciliationReportsRequest { Limit = 1 });
        var rest = await regulator.Audit.ListReconciliationReportsAsync(new ListReconciliationReportsRequest { AfterSequence = first.LastSequence });
        var none = await regulator.Audit.ListReconciliationReportsAsync(new ListReconciliationReportsRequest { AfterSequence = rest.LastSequence });
        var bad = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.ListReconciliationReportsAsync(new ListReconciliationReportsRequest { Limit = 5000 }).ResponseAsync);
        var denied = await Assert.ThrowsAsync<RpcException>(() => _api.Client(ApiNode.Bank, "LOAN_REVIEW").Audit.ListReconciliationReportsAsync(new ListReconciliationReportsRequest()).ResponseAsync);

        var damage = Assert.Single(first.Reports);
        Assert.Equal((1L, "chain-audit", "store-damage", 7L, "2026-12-02T03:00:00.000Z"), (damage.Sequence, damage.Job, damage.Kind, damage.Height, damage.FoundAt));
        var divergence = Assert.Single(rest.Reports);
        Assert.Equal((2L, "he-1", "state root"), (divergence.Sequence, divergence.Peer, divergence.Subject));
        Assert.Empty(none.Reports);
        Assert.Equal(2L, none.LastSequence);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }
}
