using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.Storage;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>
/// Snapshots written in the background: the append only freezes the index, a task writes the runs and the manifest.
/// A test hook holds that task so the tests can append, read, close and "crash" while a snapshot is in flight.
/// </summary>
public sealed class EmbeddedBackgroundSnapshotTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-bgsnap-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _copies = [];
    private readonly TestBlocks _blocks = new();

    private string SnapshotDirectory => Path.Combine(_directory, "snapshots");

    private static Task<EmbeddedLedgerStore> OpenAsync(string directory, int snapshotEveryBlocks = 4, bool snapshotOnClose = false) =>
        EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory, SnapshotEveryBlocks = snapshotEveryBlocks, SnapshotOnClose = snapshotOnClose }, None);

    /// <summary>Installs a hook that holds the background writer until the returned release is called.</summary>
    private static (Task Entered, Action Release) Hold(EmbeddedLedgerStore store)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeSnapshotWrite = () =>
        {
            entered.TrySetResult();
            return release.Task;
        };
        return (entered.Task, () => release.TrySetResult());
    }

    private async Task AppendAsync(EmbeddedLedgerStore store, int from, int to)
    {
        for (var height = from; height < to; height++)
        {
            await store.AppendAsync(_blocks.At(height), None);
        }
    }

    /// <summary>Every block, transaction, state value, history node and projection of the first <paramref name="count"/> blocks.</summary>
    private async Task AssertChainAsync(EmbeddedLedgerStore store, int count)
    {
        Assert.Equal(new StoreHead(count - 1, TestBlocks.BlockHashAt(count - 1), count * _blocks.TransactionsPerBlock), await store.GetHeadAsync(None));
        foreach (var block in _blocks.Chain(count))
        {
            Assert.Equal(block.Header.ToArray(), (await store.GetHeaderAsync(block.Height, None))!.Header.ToArray());
            foreach (var tx in block.Transactions)
            {
                Assert.Equal(tx.Bytes.ToArray(), (await store.GetTransactionAsync(tx.TxHash, None))!.Bytes.ToArray());
            }

            foreach (var write in block.StateWrites)
            {
                Assert.Equal(write.Value?.ToArray(), await store.GetStateAsync(write.Key, None));
            }

            foreach (var node in block.HistoryNodes)
            {
                Assert.Equal(node.Hash, await store.GetHistoryNodeAsync(node.Level, node.Index, None));
            }

            foreach (var node in block.StateNodes)
            {
                Assert.Equal(node.Encoded.ToArray(), await store.GetStateNodeAsync(node.Hash, None));
            }
        }

        var state = new List<StateEntry>();
        await foreach (var entry in store.EnumerateStateAsync(None))
        {
            state.Add(entry);
        }

        Assert.Equal(state.OrderBy(e => e.Key).Select(e => e.Key), state.Select(e => e.Key));
        Assert.Equal(state.Count, state.Select(e => e.Key).Distinct().Count());
        Assert.Contains(state, e => e.Key == TestBlocks.RecordKey((count * _blocks.TransactionsPerBlock) - 1));
        Assert.NotEmpty(await store.GetLicencesByHolderAsync(TestBlocks.HolderOf(1), None));
        Assert.NotEmpty(await store.GetMemorandaAsync(None));
    }

    private string CopyDirectory()
    {
        var copy = _directory + "-copy" + _copies.Count;
        _copies.Add(copy);
        foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) == "LOCK")
            {
                continue;
            }

            var target = Path.Combine(copy, Path.GetRelativePath(_directory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    [Fact]
    public async Task Appends_and_reads_go_on_while_a_snapshot_is_being_written_and_every_value_reads_before_during_and_after()
    {
        await using var store = await OpenAsync(_directory);
        var (entered, release) = Hold(store);

        await AppendAsync(store, 0, 3);
        await AssertChainAsync(store, 3); // before: no snapshot yet
        await AppendAsync(store, 3, 4); // the fourth block starts the snapshot at height 3
        await entered;

        await AssertChainAsync(store, 4);
        await AppendAsync(store, 4, 11); // thresholds at 7 and 11 pass while it is held: not started
        await AssertChainAsync(store, 11); // during: delta over frozen layer over runs
        Assert.False(store.SnapshotIdle.IsCompleted);
        Assert.Empty(Directory.Exists(SnapshotDirectory) ? Directory.GetFiles(SnapshotDirectory, "*.snap") : []);

        release();
        await store.SnapshotIdle;
        Assert.Null(store.SnapshotFailure);
        Assert.True(File.Exists(Path.Combine(SnapshotDirectory, "snapshot-000000000003.snap")));
        await AssertChainAsync(store, 11); // after: the frozen layer is now a run

        await AppendAsync(store, 11, 12); // the counters passed the threshold meanwhile: the next block starts one
        await store.SnapshotIdle;
        Assert.True(File.Exists(Path.Combine(SnapshotDirectory, "snapshot-000000000011.snap")));
        await AssertChainAsync(store, 12);
    }

    [Fact]
    public async Task A_store_reopens_from_a_snapshot_written_in_the_background_and_replays_only_the_tail()
    {
        await using (var store = await OpenAsync(_directory))
        {
            await AppendAsync(store, 0, 4);
            await store.SnapshotIdle;
            await AppendAsync(store, 4, 6);
        }

        await using var reopened = await OpenAsync(_directory);

        Assert.Contains(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotLoaded && a.Detail.Contains("height 3", StringComparison.Ordinal));
        Assert.Contains(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SegmentsReplayed && a.Detail.Contains("replayed 2 block records", StringComparison.Ordinal));
        Assert.Empty(reopened.SkippedSnapshots);
        await AssertChainAsync(reopened, 6);
        await AppendAsync(reopened, 6, 9);
        await AssertChainAsync(reopened, 9);
    }

    [Fact]
    public async Task Closing_with_a_snapshot_in_flight_waits_for_it_and_still_snapshots_the_head()
    {
        var store = await OpenAsync(_directory, snapshotOnClose: true);
        var (entered, release) = Hold(store);
        await AppendAsync(store, 0, 10);
        await entered;

        var closing = store.DisposeAsync().AsTask();
        await Task.Yield();
        Assert.False(closing.IsCompleted); // it cannot finish while the snapshot is held
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AppendAsync(_blocks.At(10), None));
        release();
        await closing;

        Assert.True(File.Exists(Path.Combine(SnapshotDirectory, "snapshot-000000000003.snap")));
        Assert.True(File.Exists(Path.Combine(SnapshotDirectory, "snapshot-000000000009.snap")));
        await using var reopened = await OpenAsync(_directory);
        Assert.DoesNotContain(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SegmentsReplayed);
        await AssertChainAsync(reopened, 10);
    }

    [Fact]
    public async Task A_crash_with_a_snapshot_in_flight_loses_nothing_acknowledged()
    {
        await using var store = await OpenAsync(_directory);
        await AppendAsync(store, 0, 4);
        await store.SnapshotIdle; // a snapshot at 3 is on disk
        var (entered, release) = Hold(store);
        await AppendAsync(store, 4, 8); // the one at 7 is held
        await entered;
        await AppendAsync(store, 8, 10);

        // A crash now: the files as they are, without a dispose.
        var crashed = CopyDirectory();
        // A crash in the middle of writing: a half-written run and a half-written manifest under its temporary name.
        var runs = Path.Combine(crashed, "snapshots", "index");
        File.WriteAllBytes(Path.Combine(runs, "state-9999999999.run"), new byte[100]);
        File.WriteAllBytes(Path.Combine(crashed, "snapshots", "snapshot-000000000007.snap.tmp"), new byte[40]);
        // And one whose manifest was renamed into place but cut short (the rename reached the disk, the data did not).
        var truncated = CopyDirectory();
        var newest = Path.Combine(truncated, "snapshots", "snapshot-000000000003.snap");
        File.Copy(newest, Path.Combine(truncated, "snapshots", "snapshot-000000000007.snap"));
        using (var file = new FileStream(Path.Combine(truncated, "snapshots", "snapshot-000000000007.snap"), FileMode.Open))
        {
            file.SetLength(file.Length / 2);
        }

        release();
        await store.SnapshotIdle;

        foreach (var directory in new[] { crashed, truncated })
        {
            await using var reopened = await OpenAsync(directory);
            Assert.Equal(9, reopened.Recovery.AcknowledgedHeight);
            await AssertChainAsync(reopened, 10);
            Assert.Contains(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.SnapshotLoaded && a.Detail.Contains("height 3", StringComparison.Ordinal));
            await AppendAsync(reopened, 10, 12);
            await reopened.SnapshotIdle;
            await AssertChainAsync(reopened, 12);
        }

        Assert.False(File.Exists(Path.Combine(runs, "state-9999999999.run"))); // the next snapshot's clean-up removed it
        Assert.Empty(Directory.GetFiles(Path.Combine(crashed, "snapshots"), "*.tmp"));
    }

    [Fact]
    public async Task A_failed_background_snapshot_is_reported_keeps_every_value_and_is_retried()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(SnapshotDirectory, "a file where the snapshot directory belongs");
        await using var store = await OpenAsync(_directory);

        await AppendAsync(store, 0, 4);
        await store.SnapshotIdle;
        Assert.NotNull(store.SnapshotFailure);
        await AssertChainAsync(store, 4);

        await AppendAsync(store, 4, 5); // retried at the next block: fails again, its layers folded together
        await store.SnapshotIdle;
        Assert.NotNull(store.SnapshotFailure);
        await AssertChainAsync(store, 5);

        File.Delete(SnapshotDirectory);
        await AppendAsync(store, 5, 6);
        await store.SnapshotIdle;
        Assert.Null(store.SnapshotFailure);
        Assert.True(File.Exists(Path.Combine(SnapshotDirectory, "snapshot-000000000005.snap")));
        await AssertChainAsync(store, 6);
    }

    public void Dispose()
    {
        foreach (var directory in _copies.Append(_directory))
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
