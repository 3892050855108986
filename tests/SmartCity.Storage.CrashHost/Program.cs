// Usage: CrashHost embedded <data-directory> <transactions-per-block>
//        CrashHost postgres <connection-string> <schema> <transactions-per-block>
// Opens the store, then appends TestBlocks from head + 1 on, printing "ack <height>" once each append has returned
// (that is, once the block is durable), until the parent kills the process.
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing.Storage;

await using ILedgerStore store = args[0] switch
{
    "embedded" => await EmbeddedLedgerStore.OpenAsync(
        new EmbeddedStoreOptions { DataDirectory = args[1], SegmentSize = 1 << 20, SnapshotEveryBlocks = 7 }, CancellationToken.None),
    "postgres" => await PostgresLedgerStore.OpenAsync(
        new PostgresStoreOptions { ConnectionString = args[1], Schema = args[2] }, CancellationToken.None),
    _ => throw new ArgumentException($"unknown store '{args[0]}'"),
};

var blocks = new TestBlocks { TransactionsPerBlock = int.Parse(args[^1], System.Globalization.CultureInfo.InvariantCulture) };
var height = ((await store.GetHeadAsync(CancellationToken.None))?.Height ?? -1) + 1;
Console.Out.WriteLine($"ready {height}");
while (true)
{
    await store.AppendAsync(blocks.At(height), CancellationToken.None);
    Console.Out.WriteLine($"ack {height}");
    height++;
}
