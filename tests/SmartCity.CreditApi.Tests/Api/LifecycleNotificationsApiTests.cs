using Grpc.Core;
using SmartCity.Contracts.Audit.V1;
using LedgerNotification = SmartCity.Ledger.Jobs.Lifecycle.LifecycleNotification;
using LifecycleKinds = SmartCity.Ledger.Jobs.Lifecycle.LifecycleKinds;

namespace SmartCity.CreditApi.Tests.Api;

/// <summary>AuditService.ListLifecycleNotifications: the lifecycle job's notifications, for regulators and, about their own records, designators.</summary>
public sealed class LifecycleNotificationsApiTests : IAsyncLifetime
{
    private readonly ApiNode _api = new();

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task A_regulator_pages_through_every_notification_a_designator_sees_its_own_and_a_bank_is_refused()
    {
        var due = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var noted = new DateTimeOffset(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);
        var own = _api.AddressOf(ApiNode.TianjinRegulator).ToString();
        var other = _api.AddressOf(ApiNode.Bureau).ToString();
        var record = "0x" + new string('1', 64);
        await _api.Ledger.JobState.AppendNotificationAsync(new LedgerNotification(0, LifecycleKinds.ObjectionOverdue, ApiNode.Holder, record, "0x" + new string('2', 64), own, due, 5, noted), CancellationToken.None);
        await _api.Ledger.JobState.AppendNotificationAsync(new LedgerNotification(0, LifecycleKinds.RepairPossible, ApiNode.Holder, "0x" + new string('3', 64), "", other, due, 6, noted), CancellationToken.None);
        var again = await _api.Ledger.JobState.AppendNotificationAsync(new LedgerNotification(0, LifecycleKinds.ObjectionOverdue, ApiNode.Holder, record, "0x" + new string('2', 64), own, due, 7, noted), CancellationToken.None);
        var regulator = _api.Client(ApiNode.Regulator, "SUPERVISION");

        var first = await regulator.Audit.ListLifecycleNotificationsAsync(new ListLifecycleNotificationsRequest { Limit = 1 });
        var rest = await regulator.Audit.ListLifecycleNotificationsAsync(new ListLifecycleNotificationsRequest { AfterSequence = first.LastSequence });
        var designators = await _api.Client(ApiNode.TianjinRegulator, "OBJECTION_REVIEW").Audit.ListLifecycleNotificationsAsync(new ListLifecycleNotificationsRequest());
        var bad = await Assert.ThrowsAsync<RpcException>(() => regulator.Audit.ListLifecycleNotificationsAsync(new ListLifecycleNotificationsRequest { AfterSequence = -1 }).ResponseAsync);
        var denied = await Assert.ThrowsAsync<RpcException>(() => _api.Client(ApiNode.Bank, "LOAN_REVIEW").Audit.ListLifecycleNotificationsAsync(new ListLifecycleNotificationsRequest()).ResponseAsync);

        Assert.Null(again); // the same kind, record, objection and due time is written once
        var overdue = Assert.Single(first.Notifications);
        Assert.Equal((1L, LifecycleKinds.ObjectionOverdue, record, own, "2026-12-01T00:00:00.000Z", 5L, "2026-12-02T03:00:00.000Z"),
            (overdue.Sequence, overdue.Kind, overdue.RecordId, overdue.Designator, overdue.DueAt, overdue.Height, overdue.NotedAt));
        var repair = Assert.Single(rest.Notifications);
        Assert.Equal((2L, LifecycleKinds.RepairPossible), (repair.Sequence, repair.Kind));
        Assert.Equal([1L], designators.Notifications.Select(n => n.Sequence));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }
}
