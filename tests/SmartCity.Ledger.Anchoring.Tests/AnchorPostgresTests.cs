using SmartCity.Ledger.Jobs.Anchor;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.Evm;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// Anchoring a PostgreSQL node: `smartcity anchor submit --postgres` reads the certified block from the store's schema,
/// and the AnchorJob records its anchors in that schema's tables (migration 3), where a new connection (a restarted
/// node, another instance of the region) finds them and anchors nothing twice.
/// </summary>
public sealed class AnchorPostgresTests(PostgresFixture postgres, LocalEvmFixture evm) : IClassFixture<PostgresFixture>, IClassFixture<LocalEvmFixture>, IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-anchor-pg-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [PostgresFact]
    public async Task Submit_reads_a_PostgreSQL_store_and_the_job_records_its_anchors_in_the_store_schema()
    {
        var node = await evm.NodeAsync();
        var connectionString = PostgresFixture.ConnectionString!;
        var store = await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = connectionString, Schema = postgres.Schema }, None);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 2, store: store);
        using var deployer = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(deployer);
        var address = contract.ContractAddress.ToString();

        var submitted = await AnchorTestKit.RunCliAsync("anchor", "submit", "--rpc", node.RpcUrl.ToString(), "--contract", address, "--postgres", connectionString, "--schema", postgres.Schema, "--height", "1", "--key", AnchorTestKit.SubmitterKeyFile(node, _directory), "--insecure-plaintext");
        var badSchema = await AnchorTestKit.RunCliAsync("anchor", "submit", "--rpc", node.RpcUrl.ToString(), "--contract", address, "--postgres", connectionString, "--schema", "no such schema", "--key", AnchorTestKit.SubmitterKeyFile(node, _directory), "--insecure-plaintext");
        var options = AnchorJobTests.Options(node, contract, everyBlocks: 1);
        var records = new PostgresAnchorRecordStore(connectionString, postgres.Schema);
        AnchorRunResult anchored;
        await using (records)
        {
            anchored = await AnchorJobTests.NewAnchorer(node, options, records).RunAsync(ledger.Store, None);
        }

        await using var reopened = new PostgresAnchorRecordStore(connectionString, postgres.Schema);
        var state = await reopened.GetAsync(address, None);
        var again = await AnchorJobTests.NewAnchorer(node, options, reopened).RunAsync(ledger.Store, None);

        Assert.True(submitted.Code == 0, submitted.Output + submitted.Error);
        Assert.StartsWith($"ANCHORED: height 1 header {ledger.Block(1).Header.Hash}", submitted.Output, StringComparison.Ordinal);
        Assert.Equal(2, badSchema.Code);
        Assert.Single(badSchema.Error.TrimEnd('\n').Split('\n'));
        Assert.True(anchored.Status == AnchorRunStatus.Anchored, anchored.Summary);
        Assert.Equal((2L, anchored.Anchored!.TransactionHash, ledger.Block(2).Header.Hash.ToString()), (state.Last!.Height, state.Last.TransactionHash, state.Last.HeaderHash));
        Assert.Null(state.Pending);
        Assert.Equal(AnchorRunStatus.NothingToAnchor, again.Status);
        Assert.Equal(2L, await contract.CheckpointCountAsync(None));
    }
}
