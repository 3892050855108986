using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>The storage contract against the embedded store, in a fresh temporary data directory per test.</summary>
public sealed class EmbeddedLedgerStoreContractTests : LedgerStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-store-" + Guid.NewGuid().ToString("N"));

    protected override async Task<ILedgerStore> OpenStoreAsync() =>
        await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, SnapshotEveryBlocks = 3 }, CancellationToken.None);

    protected override Task DeleteStoreAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
