using Microsoft.Extensions.Logging.Abstractions;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;
using static SmartCity.Ledger.Node.Tests.NodeKit;

namespace SmartCity.Ledger.Node.Tests;

/// <summary>
/// The node on its store (issue 9 item 3, issue 10 item 4): it reopens at its head from the persisted state and
/// history trees without replaying history, keeps the configured window of state versions and refuses proofs below it
/// with a typed error; a full disk or a database stopped abruptly pauses it with a clear status and it resumes by itself
/// losing nothing; a failed fsync stops it for good.
/// </summary>
public sealed class NodeStoreTests : IDisposable
{
    private static readonly LedgerNodeOptions FastRetry = new() { StoreRetryInterval = TimeSpan.FromMilliseconds(50) };
    private readonly string _directory = TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Task<LedgerNode> OpenAsync(ILedgerStore store, LedgerChainOptions? chain = null, ISecp256k1? curve = null, LedgerNodeOptions? options = null)
        => LedgerNode.OpenAsync(
            new LedgerNodeSetup
            {
                Genesis = SoloGenesis,
                Store = store,
                Curve = curve ?? Secp256k1.Default,
                Consensus = new SoloSealingEngine(Sealer(Validator)),
                Options = options ?? new LedgerNodeOptions(),
                ChainOptions = chain ?? LedgerChainOptions.Default,
            },
            Deadline());

    private static byte[] Record(ulong nonce) => Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce));

    private static StateKey NonceKey => StateKeys.Nonce(TestKeys.BeijingRegulator.Address);

    [Fact]
    public async Task A_node_reopens_at_its_head_from_the_stored_trees_without_verifying_a_single_signature_again()
    {
        NodeSnapshot before;
        Hash256 firstId;
        await using (var node = await OpenAsync(await EmbeddedStoreAsync(_directory)))
        {
            Assert.Equal(ChainOpening.Genesis, node.Opening);
            firstId = (await node.SubmitAsync(Record(0), true, Deadline())).Id;
            for (var nonce = 1UL; nonce < 4; nonce++)
            {
                Assert.Equal(TransactionState.Committed, (await node.SubmitAsync(Record(nonce), true, Deadline())).Outcome?.State);
            }

            before = node.Head;
        }

        var curve = new CountingSecp256k1(Secp256k1.Default);
        NodeSnapshot last;
        await using (var reopened = await OpenAsync(await EmbeddedStoreAsync(_directory), curve: curve))
        {
            Assert.Equal(ChainOpening.StoredTrees, reopened.Opening);
            Assert.Equal(0, curve.TotalRecoveries); // a replay would have recovered every transaction's signature
            Assert.Equal((before.HeadHash, before.StateRoot, before.HistorySize), (reopened.Head.HeadHash, reopened.Head.StateRoot, reopened.Head.HistorySize));
            var inclusion = await reopened.ProveTransactionAsync(firstId, Deadline());
            Assert.True(ReceiptVerifier.Verify(inclusion!, reopened.Anchor, Secp256k1.Default).IsValid);
            Assert.Equal(5, (await reopened.SubmitAsync(Record(4), true, Deadline())).Outcome!.Height);
            last = reopened.Head;
        }

        // The honest replay of the store (every block re-executed) reaches the same head.
        await using var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, ReadOnly = true }, Deadline());
        var replayed = await ChainLoader.ReplayAsync(SoloGenesis, Secp256k1.Default, new SignatureBatchVerifier(Secp256k1.Default), store, NullLogger.Instance, Deadline());
        Assert.Equal((last.HeadHash, last.StateRoot), (replayed.Head.Hash, replayed.Head.StateRoot));
    }

    [Fact]
    public async Task A_node_keeps_the_configured_window_of_state_versions_and_refuses_a_proof_below_it_with_state_pruned_also_after_a_restart()
    {
        var window = new LedgerChainOptions { StateRetentionBlocks = 2, PruneEveryBlocks = 1 };
        Hash256 firstId;
        await using (var node = await OpenAsync(await EmbeddedStoreAsync(_directory), window))
        {
            firstId = (await node.SubmitAsync(Record(0), true, Deadline())).Id;
            for (var nonce = 1UL; nonce < 5; nonce++)
            {
                await node.SubmitAsync(Record(nonce), true, Deadline());
            }

            Assert.Equal(5, node.Head.Height);
            Assert.Equal(4, node.StateRetainedFrom); // the newest 2 versions: heights 4 and 5
            Assert.Equal(2, node.StateRetentionBlocks);
        }

        await using var reopened = await OpenAsync(await EmbeddedStoreAsync(_directory), window);
        Assert.Equal(ChainOpening.StoredTrees, reopened.Opening);
        Assert.Equal(4, reopened.StateRetainedFrom);

        var pruned = await reopened.ProveStateAsync(NonceKey, 1, Deadline());
        Assert.Equal(ChainQueryError.StatePruned, pruned.Error);
        Assert.Null(pruned.Value);
        Assert.Contains("from height 4", pruned.Message, StringComparison.Ordinal);

        var kept = await reopened.ProveStateAsync(NonceKey, 4, Deadline());
        Assert.True(ReceiptVerifier.Verify(kept.Value!, reopened.Anchor, Secp256k1.Default).IsValid);
        Assert.Equal(4UL, StateValue.Decode(kept.Value!.Value!, CounterState.Read).Value);
        Assert.Equal(ChainQueryError.UnknownHeight, (await reopened.ProveStateAsync(NonceKey, 6, Deadline())).Error);

        // History is never pruned: the first transaction is proved against block 1's header.
        var early = await reopened.ProveTransactionAsync(firstId, 1, Deadline());
        Assert.True(ReceiptVerifier.Verify(early.Value!, reopened.Anchor, Secp256k1.Default).IsValid);
        Assert.Equal(1, early.Value!.Header.Height);
    }

    [Fact]
    public async Task A_node_whose_disk_fills_refuses_submissions_with_a_clear_status_loses_nothing_and_resumes_when_space_returns()
    {
        var disk = new InjectedFullDisk();
        var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, Faults = disk }, Deadline());
        Hash256 acknowledged, waited, after;
        await using (var node = await OpenAsync(store, options: FastRetry))
        {
            acknowledged = (await node.SubmitAsync(Record(0), true, Deadline())).Id;

            disk.Full = true;
            var waiting = node.SubmitAsync(Record(1), true, Deadline(90)).AsTask();
            var stalled = await NodeWaits.HealthAsync(node, NodeHealth.StoreUnavailable);
            Assert.Contains("disk is full", stalled.Fault, StringComparison.Ordinal);
            Assert.Equal(1, stalled.Height);

            var refused = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).Signed(0)), false, Deadline());
            Assert.Equal(AdmissionCode.Unavailable, refused.Code);
            Assert.Contains("disk is full", refused.Reason, StringComparison.Ordinal);
            Assert.False(waiting.IsCompleted);

            disk.Full = false;
            var committed = await waiting;
            waited = committed.Id;
            Assert.Equal(TransactionState.Committed, committed.Outcome!.State);
            Assert.Equal(2, committed.Outcome.Height);
            Assert.Equal(NodeHealth.Running, node.Head.Health);
            after = (await node.SubmitAsync(Record(2), true, Deadline())).Id;
            Assert.Equal(3, node.Head.Height);
        }

        await using var reopened = await EmbeddedStoreAsync(_directory);
        Assert.Equal(3, (await reopened.GetHeadAsync(Deadline()))!.Value.Height);
        Assert.Equal(1, (await reopened.GetTransactionAsync(acknowledged, Deadline()))?.Height);
        Assert.Equal(2, (await reopened.GetTransactionAsync(waited, Deadline()))?.Height);
        Assert.Equal(3, (await reopened.GetTransactionAsync(after, Deadline()))?.Height);
        Assert.DoesNotContain(reopened.Recovery.Actions, a => a.Kind == RecoveryActionKind.TailTruncated);
    }

    [Fact]
    public async Task A_failed_fsync_stops_the_node_for_good_and_a_restart_keeps_every_acknowledged_transaction()
    {
        var disk = new InjectedFullDisk();
        var store = await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, Faults = disk, SnapshotOnClose = false }, Deadline());
        Hash256 acknowledged;
        await using (var node = await OpenAsync(store, options: FastRetry))
        {
            acknowledged = (await node.SubmitAsync(Record(0), true, Deadline())).Id;

            disk.FsyncFails = true;
            var lost = await node.SubmitAsync(Record(1), true, Deadline());
            Assert.NotEqual(TransactionState.Committed, lost.Outcome!.State);
            var faulted = await NodeWaits.HealthAsync(node, NodeHealth.Faulted);
            Assert.Contains(nameof(StoreFailedException), faulted.Fault, StringComparison.Ordinal);

            disk.FsyncFails = false; // healthy again, but this instance must not trust the disk any more
            var refused = await node.SubmitAsync(Record(1), true, Deadline());
            Assert.Equal(AdmissionCode.Unavailable, refused.Code);
            Assert.Equal(NodeHealth.Faulted, node.Head.Health);
        }

        await using var restarted = await OpenAsync(await EmbeddedStoreAsync(_directory));
        Assert.Equal(1, (await restarted.GetTransactionAsync(acknowledged, Deadline())).Height);
        var next = await restarted.SubmitAsync(Record((ulong)restarted.Head.Height), true, Deadline()); // block 2 was whole on disk, so recovery may keep it
        Assert.Equal(TransactionState.Committed, next.Outcome!.State);
    }

    [Fact]
    public async Task A_store_written_without_state_tree_nodes_is_replayed_at_every_start_even_after_the_node_added_blocks_with_nodes()
    {
        NodeSnapshot written;
        await using (var node = await OpenAsync(NodeLessStore.Wrap(await EmbeddedStoreAsync(_directory))))
        {
            await node.SubmitAsync(Record(0), true, Deadline());
            await node.SubmitAsync(Record(1), true, Deadline());
            written = node.Head;
        }

        NodeSnapshot extended;
        await using (var node = await OpenAsync(await EmbeddedStoreAsync(_directory)))
        {
            Assert.Equal(ChainOpening.Replay, node.Opening);
            Assert.Equal((written.HeadHash, written.StateRoot), (node.Head.HeadHash, node.Head.StateRoot));
            Assert.Equal(3, (await node.SubmitAsync(Record(2), true, Deadline())).Outcome!.Height); // block 3 carries its new nodes
            extended = node.Head;
        }

        // The head's root node is stored now, but the rest of the tree is not: still a replay, never an incomplete tree.
        await using var reopened = await OpenAsync(await EmbeddedStoreAsync(_directory));
        Assert.Equal(ChainOpening.Replay, reopened.Opening);
        Assert.Equal((extended.HeadHash, extended.StateRoot), (reopened.Head.HeadHash, reopened.Head.StateRoot));
        var nonce = await reopened.ProveStateAsync(NonceKey, Deadline());
        Assert.True(ReceiptVerifier.Verify(nonce, reopened.Anchor, Secp256k1.Default).IsValid);
        Assert.Equal(3UL, StateValue.Decode(nonce.Value!, CounterState.Read).Value);
    }

    /// <summary>A store as a build before state-tree persistence wrote it: every append without state-tree nodes.</summary>
    public class NodeLessStore : System.Reflection.DispatchProxy
    {
        private ILedgerStore _inner = null!;

        public static ILedgerStore Wrap(ILedgerStore inner)
        {
            var proxy = Create<ILedgerStore, NodeLessStore>();
            ((NodeLessStore)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(ILedgerStore.AppendAsync) && args is [BlockCommit commit, ..])
            {
                args[0] = commit with { StateNodes = [], StaleStateNodes = [] };
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }

    /// <summary>ENOSPC on writes to the block log, or a failing fsync of it, on demand.</summary>
    private sealed class InjectedFullDisk : StorageFaults
    {
        public volatile bool Full;
        public volatile bool FsyncFails;

        public override void BeforeWrite(string file)
        {
            if (Full && file.EndsWith(".seg", StringComparison.Ordinal))
            {
                throw new IOException("No space left on device (injected)");
            }
        }

        public override void BeforeFlush(string file)
        {
            if (FsyncFails && file.EndsWith(".seg", StringComparison.Ordinal))
            {
                throw new IOException("Input/output error (injected fsync failure)");
            }
        }
    }
}

/// <summary>
/// Issue 10 item 4 at the node: its own throwaway PostgreSQL cluster is stopped with <c>pg_ctl stop -m immediate</c>
/// while a client submits and waits for commits, then restarted. The node reports the outage, refuses submissions with
/// a clear reason, reconnects by itself; every acknowledged transaction is in the chain, no half block is visible, and
/// an honest replay of the schema reaches the node's state root.
/// </summary>
public sealed class PostgresNodeServerCrashTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [PostgresFact]
    public async Task A_node_whose_database_is_stopped_abruptly_mid_append_reconnects_and_loses_no_acknowledged_transaction()
    {
        Assert.True(ThrowawayPostgres.IsInstalled, "PostgreSQL 15 server binaries are needed (scripts/test.sh installs postgresql-15)");
        await using var server = await ThrowawayPostgres.StartAsync();
        var options = new PostgresStoreOptions { ConnectionString = server.ConnectionString, Schema = "node" };
        var acknowledged = new List<(Hash256 Id, long Height)>();
        var refusals = 0;
        NodeSnapshot final;
        await using (var node = await LedgerNode.OpenAsync(
            new LedgerNodeSetup
            {
                Genesis = SoloGenesis,
                Store = await PostgresLedgerStore.OpenAsync(options, Deadline()),
                Consensus = new SoloSealingEngine(Sealer(Validator)),
                Options = new LedgerNodeOptions { StoreRetryInterval = TimeSpan.FromMilliseconds(100) },
            },
            Deadline()))
        {
            using var stop = new CancellationTokenSource();
            var client = Task.Run(async () =>
            {
                var nonce = 0UL;
                while (!stop.IsCancellationRequested)
                {
                    var result = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.BeijingRegulator).Signed(nonce)), true, Deadline(120));
                    if (result.Code == AdmissionCode.Unavailable)
                    {
                        Interlocked.Increment(ref refusals);
                        await Task.Delay(50);
                        continue;
                    }

                    Assert.Equal(TransactionState.Committed, result.Outcome?.State);
                    lock (acknowledged)
                    {
                        acknowledged.Add((result.Id, result.Outcome!.Height));
                    }

                    nonce++;
                }
            });

            await CommittedAsync(node, 3);
            output.WriteLine($"{Count()} acknowledged; stopping the server immediately");
            await server.StopImmediatelyAsync();
            var stalled = await NodeWaits.HealthAsync(node, NodeHealth.StoreUnavailable);
            output.WriteLine($"node reports: {stalled.Fault}");
            var beforeRestart = Count();
            var refused = await node.SubmitAsync(Bytes(Build.A.CreditRecord.By(TestKeys.TianjinRegulator).Signed(0)), false, Deadline());
            Assert.Equal(AdmissionCode.Unavailable, refused.Code);
            Assert.Contains("store cannot commit", refused.Reason, StringComparison.Ordinal);

            await server.StartServerAsync();
            await NodeWaits.HealthAsync(node, NodeHealth.Running);
            await CommittedAsync(node, beforeRestart + 3);
            await stop.CancelAsync();
            await client;
            final = node.Head;
            output.WriteLine($"{Count()} acknowledged, head {final.Height}, {refusals} refusals while the store was down");
        }

        await using var store = await PostgresLedgerStore.OpenAsync(options, Deadline());
        Assert.Equal(final.Height, (await store.GetHeadAsync(Deadline()))!.Value.Height);
        foreach (var (id, height) in acknowledged)
        {
            Assert.Equal(height, (await store.GetTransactionAsync(id, Deadline()))?.Height);
        }

        var replayed = await ChainLoader.ReplayAsync(SoloGenesis, Secp256k1.Default, new SignatureBatchVerifier(Secp256k1.Default), store, NullLogger.Instance, Deadline());
        Assert.Equal((final.HeadHash, final.StateRoot, final.HistorySize), (replayed.Head.Hash, replayed.Head.StateRoot, replayed.Head.HistorySize));

        // Nothing half-written: every transaction row belongs to a committed block, every block row to the chain.
        await using var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var counts = new Npgsql.NpgsqlCommand("SELECT (SELECT count(*) FROM node.blocks), (SELECT count(*) FROM node.transactions)", connection);
        await using var reader = await counts.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((final.Height + 1, final.HistorySize), (reader.GetInt64(0), reader.GetInt64(1)));

        int Count()
        {
            lock (acknowledged)
            {
                return acknowledged.Count;
            }
        }

        async Task CommittedAsync(LedgerNode node, int count)
        {
            var head = node.Head;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            while (Count() < count)
            {
                head = await head.NextAsync(deadline.Token);
            }
        }
    }
}

/// <summary>Waits on a node's snapshots (no polling).</summary>
internal static class NodeWaits
{
    public static async Task<NodeSnapshot> HealthAsync(LedgerNode node, NodeHealth health)
    {
        var head = node.Head;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (head.Health != health)
        {
            Assert.False(head.Health is NodeHealth.Stopped || (head.Health is NodeHealth.Faulted && health != NodeHealth.Faulted), $"the node is {head.Health}: {head.Fault}");
            head = await head.NextAsync(deadline.Token);
        }

        return head;
    }
}
