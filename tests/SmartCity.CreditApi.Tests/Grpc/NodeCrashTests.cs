using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Ledger.Storage.Postgres;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Grpc;

/// <summary>
/// The real <c>smartcity node --config</c> killed with SIGKILL, again and again, while four clients submit and wait
/// for commits; restarted each time from the same data directory (or PostgreSQL schema). Afterwards every
/// transaction a client was told is COMMITTED is in the store, and an honest replay of the store through the engine
/// reaches the same head and state root. About 30-60 s per store on the shared 2-core machine.
/// </summary>
public sealed class NodeCrashTests
{
    private const int Kills = 4;

    [Fact]
    public async Task Sigkill_under_load_loses_no_acknowledged_transaction_on_the_embedded_store()
    {
        await using var ledger = await LedgerSetup.CreateAsync("BJ");
        await KillRepeatedlyAsync(ledger, async () => await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = Path.Combine(ledger.Directory, "data", "bj") }, CancellationToken.None));
    }

    [PostgresFact]
    public async Task Sigkill_under_load_loses_no_acknowledged_transaction_on_postgresql()
    {
        var schema = "crash_" + Guid.NewGuid().ToString("N")[..12];
        await using var ledger = await LedgerSetup.CreateAsync("BJ", PostgresFixture.ConnectionString);
        ledger.EditConfig(config => config["storage"]!["schema"] = schema);
        try
        {
            await KillRepeatedlyAsync(ledger, async () => await PostgresLedgerStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresFixture.ConnectionString!, Schema = schema }, CancellationToken.None));
        }
        finally
        {
            await using var connection = new NpgsqlConnection(PostgresFixture.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static async Task KillRepeatedlyAsync(LedgerSetup ledger, Func<Task<ILedgerStore>> openStore)
    {
        var genesis = (await ledger.StartupAsync()).Genesis;
        var domain = genesis.Eip712Domain.ToDomain();
        var acknowledged = new ConcurrentDictionary<Hash256, long>();
        var live = new LiveNode();
        using var stop = new CancellationTokenSource();
        string[] divisions = ["110105", "120101", "130102", "133100"];
        var clients = Enumerable.Range(0, 4).Select(member => Task.Run(() => ClientAsync(member, divisions[member]))).ToList();
        var random = new Random(9);
        var committedBeforeKills = new List<long>();

        for (var round = 0; round <= Kills; round++)
        {
            await using var node = new NodeProcess(ledger.ConfigPath);
            await node.InitializeAsync();
            using var channel = GrpcChannel.ForAddress(node.Address);
            live.Up(new NodeService.NodeServiceClient(channel));
            var height = (await live.Client!.StatusAsync(new StatusRequest())).Ledger.Height;
            await WaitUntilAsync(async () => (await live.Client!.StatusAsync(new StatusRequest())).Ledger.Height >= height + 2, TimeSpan.FromSeconds(60));
            await Task.Delay(random.Next(100, 600));
            if (round < Kills)
            {
                committedBeforeKills.Add(acknowledged.Count);
                live.Down();
                Assert.Equal(137, await node.StopAsync("KILL")); // 128 + SIGKILL: no shutdown code ran
            }
            else
            {
                await stop.CancelAsync();
                await Task.WhenAll(clients);
                live.Down();
                Assert.Equal(0, await node.StopAsync());
            }
        }

        // The node was killed while clients had transactions in flight, and kept committing after every restart.
        Assert.Equal(Kills, committedBeforeKills.Count);
        Assert.True(committedBeforeKills.Zip(committedBeforeKills.Skip(1), (a, b) => b > a).All(x => x), string.Join(", ", committedBeforeKills));

        await using var store = await openStore();
        foreach (var id in acknowledged.Keys)
        {
            Assert.True(await store.GetTransactionAsync(id, CancellationToken.None) is not null, $"acknowledged transaction {id} is not in the store");
        }

        var head = (await store.GetHeadAsync(CancellationToken.None))!.Value;
        var stored = await store.GetHeaderAsync(head.Height, CancellationToken.None);
        Assert.True(Ledger.Blocks.BlockHeader.TryDecode(stored!.Header.Span, out var header, out _));
        var replayed = await ChainLoader.ReplayAsync(genesis, Secp256k1.Default, new SignatureBatchVerifier(Secp256k1.Default), store, NullLogger.Instance, CancellationToken.None);
        Assert.Equal((head.BlockHash, header!.StateRoot, head.HistorySize), (replayed.Head.Hash, replayed.Head.StateRoot, replayed.Head.HistorySize));
        Assert.True(acknowledged.Count >= 8, $"only {acknowledged.Count} transactions were acknowledged");

        async Task ClientAsync(int member, string division)
        {
            var key = ledger.MemberKey(member);
            var nonce = 0UL;
            SignedTransaction? current = null;
            while (!stop.IsCancellationRequested)
            {
                current ??= SignedTransaction.Sign(key, domain, genesis.ChainId, nonce, Record(member, nonce, division));
                var client = await live.WaitAsync(stop.Token);
                if (client is null)
                {
                    return;
                }

                var id = current.Hash(domain);
                try
                {
                    var reply = await client.SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(current)), WaitForCommit = true }, deadline: DateTime.UtcNow.AddSeconds(30));
                    Assert.Equal(TransactionStatus.Committed, reply.Status);
                    acknowledged[id] = reply.Height;
                    (current, nonce) = (null, nonce + 1);
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Unknown)
                {
                    // The node died under the call: after the restart, ask what became of the transaction.
                    if (await live.WaitAsync(stop.Token) is { } restarted)
                    {
                        try
                        {
                            var status = await restarted.GetTransactionAsync(new GetTransactionRequest { TransactionId = id.ToString() });
                            if (status.Status == TransactionStatus.Committed)
                            {
                                (current, nonce) = (null, nonce + 1);
                            }
                        }
                        catch (RpcException)
                        {
                            // Down again: the next round asks again.
                        }
                    }
                }
            }
        }
    }

    private static CreditRecordSubmit Record(int member, ulong nonce, string division)
        => new(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes($"crash/{member}/{nonce}")), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, division, LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", default);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not reached within {limit}");
            await Task.Delay(50);
        }
    }

    /// <summary>The node the clients talk to: up (a client) or down (they wait for the restart).</summary>
    private sealed class LiveNode
    {
        private TaskCompletionSource<NodeService.NodeServiceClient> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NodeService.NodeServiceClient? Client { get; private set; }

        public void Up(NodeService.NodeServiceClient client)
        {
            Client = client;
            _next.TrySetResult(client);
        }

        public void Down()
        {
            Client = null;
            _next = new TaskCompletionSource<NodeService.NodeServiceClient>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        /// <summary>The live node's client, once it is up; null when the test is over.</summary>
        public async Task<NodeService.NodeServiceClient?> WaitAsync(CancellationToken cancellationToken)
        {
            try
            {
                return Client ?? await _next.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }
}
