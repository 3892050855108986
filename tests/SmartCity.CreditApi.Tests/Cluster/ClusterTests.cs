using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using SmartCity.Contracts.Node.V1;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using Xunit.Abstractions;

namespace SmartCity.CreditApi.Tests.Cluster;

/// <summary>
/// Four <c>smartcity node</c> processes agreeing by QBFT over the gRPC peer network, with validators killed (SIGKILL)
/// and paused (SIGSTOP: its links go silent, a partition) under load, restarted from their data directories, and the
/// proposer of the next height killed. Every request loop is bounded in count and time; every process is stopped by
/// PID. The eth cluster runs every scenario (about a minute of wall time on a quiet machine, 2-8 under load); the gm
/// cluster (<c>init --crypto gm</c>) runs the kill-and-restart scenario on the same machinery (about half of that).
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private void Step(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    [Fact]
    public async Task Four_node_processes_keep_committing_when_a_validator_is_killed_or_cut_off_and_converge_with_every_acknowledged_transaction()
    {
        await using var cluster = await StartAsync(CryptoSuiteId.Eth);
        var load = new ClusterLoad(cluster);
        load.Start();
        try
        {
            // 1-3. All four under load; SIGKILL one, three keep committing; restart it, it catches up and votes again.
            await KillOneValidatorAndRestartItAsync(cluster, load);

            // 4. Cut one validator off (SIGSTOP: its peers' links go silent) while the others commit, then heal it.
            const int Paused = 1;
            await cluster.SignalAsync(Paused, "STOP");
            var pausedAt = load.Acknowledged.Count;
            try
            {
                await load.WaitForAcknowledgedAsync(pausedAt + 6, Long);
            }
            finally
            {
                await cluster.SignalAsync(Paused, "CONT");
            }

            Step("committed with TJ paused");
            var othersHeight = (await cluster.StatusAsync(0)).Height;
            await cluster.WaitForHeightAsync([Paused], othersHeight, Long);
            await load.WaitForAcknowledgedAsync(load.Acknowledged.Count + 3, Long);
        }
        finally
        {
            await load.StopAsync();
        }

        Step("load stopped");
        // 5. Kill the proposer of the next height on an idle chain: the height is decided in a later round by another.
        var head = await cluster.ConvergeAsync(Long);
        var validators = new ValidatorSet(cluster.Genesis.Validators.Select(v => v.Address), cluster.Suite);
        var next = head + 1;
        var proposer = validators.ProposerFor(next, 0);
        var victim = Array.FindIndex(LocalCluster.Regions, r => cluster.Genesis.Validators.Single(v => v.Region == r).Address == proposer);
        Assert.Equal(137, await cluster.StopNodeAsync(victim));
        Step("proposer killed");
        var submitter = (victim + 1) % cluster.Count;
        var (id, height) = await load.SubmitOneAsync(submitter, Long);
        Assert.Equal(next, height);
        var decided = await cluster.BlockAsync(submitter, next);
        Assert.True(decided.Round >= 1, $"height {next} was decided in round {decided.Round} although its round-0 proposer was dead");
        Assert.NotEqual(proposer.ToString(), decided.Proposer, StringComparer.OrdinalIgnoreCase);

        // 6. Restart it: it was one block behind an idle chain and catches up from what its peers report.
        Step("decided without the proposer");
        await cluster.StartNodeAsync(victim);
        var final = await cluster.ConvergeAsync(Long);
        Assert.True(final >= next);

        // 7. One head, state root and history on all four, every block certified, every acknowledged transaction there.
        await AssertOneChainWithEveryAcknowledgedTransactionAsync(cluster, [.. load.Acknowledged, new(id, height)], final, atLeast: 26);
    }

    [Fact]
    public async Task Four_gm_node_processes_agree_by_qbft_with_sm2_seals_keep_committing_when_a_validator_is_killed_and_converge_with_every_acknowledged_transaction()
    {
        await using var cluster = await StartAsync(CryptoSuiteId.Gm);
        Assert.Equal(CryptoSuiteId.Gm, cluster.Suite.Id);
        var load = new ClusterLoad(cluster);
        load.Start();
        try
        {
            await KillOneValidatorAndRestartItAsync(cluster, load);
        }
        finally
        {
            await load.StopAsync();
        }

        Step("load stopped");
        var final = await cluster.ConvergeAsync(Long);
        await AssertOneChainWithEveryAcknowledgedTransactionAsync(cluster, [.. load.Acknowledged], final, atLeast: 16);
    }

    private async Task<LocalCluster> StartAsync(CryptoSuiteId suite)
    {
        var cluster = await LocalCluster.StartAsync(suite: suite);
        foreach (var node in cluster.Up)
        {
            var status = await cluster.StatusAsync(node);
            Assert.Equal(("qbft", true, 0L), (status.Certification, status.Committing, status.Height));
        }

        Step($"started ({suite.ToName()})");
        return cluster;
    }

    /// <summary>Under load: SIGKILL XA, the other three keep committing; restart it from its data directory and journal, it catches up from its peers and votes again.</summary>
    private async Task KillOneValidatorAndRestartItAsync(LocalCluster cluster, ClusterLoad load)
    {
        await load.WaitForAcknowledgedAsync(6, Long);
        Step("6 acknowledged");
        const int Killed = 3;
        Assert.Equal(137, await cluster.StopNodeAsync(Killed));
        var atKill = load.Acknowledged.Count;
        await load.WaitForAcknowledgedAsync(atKill + 6, Long);

        Step("6 more committed without XA");
        await cluster.StartNodeAsync(Killed);
        var othersHeight = (await cluster.StatusAsync(0)).Height;
        await cluster.WaitForHeightAsync([Killed], othersHeight, Long);
        await load.WaitForAcknowledgedAsync(load.Acknowledged.Count + 4, Long);
        Step("XA restarted and caught up");
    }

    /// <summary>
    /// One head, state root and history on every running node; every block the same everywhere, with a certificate
    /// valid in the chain's suite (seals of its size: 65 bytes eth, 128 gm); every acknowledged transaction committed at
    /// the same height on every node.
    /// </summary>
    private async Task AssertOneChainWithEveryAcknowledgedTransactionAsync(LocalCluster cluster, List<KeyValuePair<Hash256, long>> acknowledged, long final, int atLeast)
    {
        Step("converged");
        var statuses = await Task.WhenAll(cluster.Up.Select(cluster.StatusAsync));
        Assert.Equal(cluster.Count, statuses.Length);
        Assert.Single(statuses.Select(s => (s.Height, s.HeadHash, s.StateRoot, s.HistorySize)).Distinct());
        var validators = new ValidatorSet(cluster.Genesis.Validators.Select(v => v.Address), cluster.Suite);
        var anchor = TrustAnchor.FromGenesis(cluster.Genesis);
        for (var h = 1L; h <= final; h++)
        {
            var blocks = await Task.WhenAll(cluster.Up.Select(n => cluster.BlockAsync(n, h)));
            Assert.Single(blocks.Select(b => b.BlockHash).Distinct());
            Assert.True(BlockHeader.TryDecode(blocks[0].Header.Span, out var header, out _));
            Assert.Equal(cluster.Suite.Id, header!.Crypto);
            Assert.True(CommitCertificate.TryDecode(blocks[0].Certificate.Span, out var certificate, out _));
            Assert.All(certificate!.Seals, seal => Assert.Equal(cluster.Suite.SignatureSize, seal.Bytes.Length));
            var verdict = certificate.Verify(header, validators, anchor.DomainSeparator, cluster.Suite.Signatures);
            Assert.True(verdict.IsValid, $"height {h}: {verdict.Reason}");
        }

        Step("blocks checked");
        Assert.True(acknowledged.Count >= atLeast, $"only {acknowledged.Count} transactions were acknowledged");
        foreach (var node in cluster.Up)
        {
            var client = cluster.Client(node);
            foreach (var (tx, at) in acknowledged)
            {
                var found = await client.GetTransactionAsync(new GetTransactionRequest { TransactionId = tx.ToString() }, deadline: DateTime.UtcNow.AddSeconds(20));
                Assert.True(found.Status == TransactionStatus.Committed && found.Height == at, $"{cluster.Name(node)}: acknowledged transaction {tx} (height {at}) is {found.Status} at {found.Height}");
            }
        }

        Step($"{acknowledged.Count} acknowledged transactions found on every node; head {final}");
        await AssertEveryPeerReportsTheHeadAsync(cluster, final);
    }

    /// <summary>
    /// On an idle chain every node's Status lists its three peer links, up, each with the final head as the height
    /// that peer reported. Links that never reconnected last heard a head in their handshake (height 0) and, without
    /// the head announcements of idle links, would still show it: a validator that missed the last block of an idle
    /// chain then never learns that it is behind (a CI failure: XA stayed one block behind after the load stopped).
    /// </summary>
    private async Task AssertEveryPeerReportsTheHeadAsync(LocalCluster cluster, long final)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var up = cluster.Up.ToList();
            var statuses = await Task.WhenAll(up.Select(cluster.StatusAsync));
            var links = statuses.SelectMany((s, i) => s.Peers.Select(p => $"{cluster.Name(up[i])}→{p.Region}: connected {p.Connected}, reported head {p.ReportedHead}")).ToList();
            Assert.All(statuses, s => Assert.Equal(cluster.Count - 1, s.Peers.Count));
            if (statuses.All(s => s.Peers.All(p => p.Connected && p.ReportedHead == final)))
            {
                Assert.All(statuses, s => Assert.Equal(final, s.Height));
                Step($"every peer link up, every peer reported head {final}");
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the peers did not all report head {final}:\n{string.Join("\n", links)}");
            await Task.Delay(200);
        }
    }
}

/// <summary>
/// Signing clients, one per regional member, each submitting its next transaction to a live node and waiting for the
/// commit; when the node dies under a call the client asks the other nodes what became of it, and resubmits the same
/// bytes elsewhere when nobody committed it. Acknowledged = a node answered COMMITTED.
/// </summary>
internal sealed class ClusterLoad(LocalCluster cluster)
{
    private static readonly string[] Divisions = ["110105", "120101", "130102", "133100"];
    private readonly CancellationTokenSource _stop = new();
    private readonly ulong[] _nonces = new ulong[cluster.Setup.Members.Count];
    private readonly SemaphoreSlim[] _members = [.. cluster.Setup.Members.Select(_ => new SemaphoreSlim(1, 1))];
    private List<Task> _clients = [];

    public ConcurrentDictionary<Hash256, long> Acknowledged { get; } = new();

    public void Start() => _clients = [.. Enumerable.Range(0, 4).Select(m => Task.Run(() => ClientAsync(m)))];

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    public async Task WaitForAcknowledgedAsync(int count, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (Acknowledged.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {Acknowledged.Count} of {count} transactions acknowledged within {limit}; up: {string.Join(",", cluster.Up.Select(cluster.Name))}\n{string.Join("\n", cluster.Up.Select(n => cluster.Name(n) + ":\n" + LocalCluster.Tail(cluster.Log(n), 15)))}");
            Assert.DoesNotContain(_clients, c => c.IsFaulted);
            await Task.Delay(100);
        }
    }

    /// <summary>One transaction of member 0 through node <paramref name="node"/>; its id and height once committed.</summary>
    public async Task<(Hash256 Id, long Height)> SubmitOneAsync(int node, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        var committed = await CommitAsync(0, node, deadline.Token);
        Assert.True(committed is not null, $"no commit within {limit}");
        return committed!.Value;
    }

    private async Task ClientAsync(int member)
    {
        var turn = member;
        while (!_stop.IsCancellationRequested)
        {
            var committed = await CommitAsync(member, turn++, _stop.Token);
            if (committed is { } c)
            {
                Acknowledged[c.Id] = c.Height;
            }
        }
    }

    /// <summary>
    /// Member <paramref name="member"/>'s transaction of <paramref name="body"/> (at its next nonce, in turn with its
    /// load client) through node <paramref name="node"/> first; its id and height once committed.
    /// </summary>
    public async Task<(Hash256 Id, long Height)> SubmitAsAsync(int member, ITransactionBody body, int node, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        var committed = await CommitAsync(member, node, deadline.Token, body);
        Assert.True(committed is not null, $"no commit of {body.Kind} within {limit}");
        Acknowledged[committed!.Value.Id] = committed.Value.Height;
        return committed.Value;
    }

    /// <summary>Signs member's next transaction (a credit record unless <paramref name="body"/>) and gets it committed through live nodes (starting at <paramref name="first"/>); null when stopped first.</summary>
    private async Task<(Hash256 Id, long Height)?> CommitAsync(int member, int first, CancellationToken cancellationToken, ITransactionBody? body = null)
    {
        await _members[member].WaitAsync(CancellationToken.None);
        try
        {
            var genesis = cluster.Genesis;
            var domain = genesis.Domain(cluster.Suite);
            for (var attempt = 0; attempt < 200 && !cancellationToken.IsCancellationRequested; attempt++)
            {
                var nonce = _nonces[member];
                var record = new CreditRecordSubmit(RecordId(member, nonce), "uscc:91350100M000100Y43", RecordCategory.AdministrativePenalty, Severity.Moderate, Divisions[member % Divisions.Length], LedgerTime.ToUnixSeconds(DateTimeOffset.UtcNow.AddDays(-1)), 6, "Administrative Penalty Law, art. 28", "", default);
                var tx = SignedTransaction.Sign(cluster.MemberKey(member), domain, genesis.ChainId, nonce, body ?? record);
                var id = tx.Hash(domain);
                var up = cluster.Up.ToList();
                if (up.Count == 0)
                {
                    await Task.Delay(100, CancellationToken.None);
                    continue;
                }

                var node = up.Contains((first + attempt) % cluster.Count) ? (first + attempt) % cluster.Count : up[attempt % up.Count];
                try
                {
                    var reply = await cluster.Client(node).SubmitTransactionAsync(new SubmitTransactionRequest { Transaction = ByteString.CopyFrom(TransactionCodec.Encode(tx)), WaitForCommit = true }, deadline: DateTime.UtcNow.AddSeconds(15), cancellationToken: cancellationToken);
                    if (reply.Status == TransactionStatus.Committed)
                    {
                        _nonces[member] = nonce + 1;
                        return (id, reply.Height);
                    }
                }
                catch (RpcException e) when (e.Trailers.GetValue("x-rejection-code") == "NonceReused")
                {
                    // An earlier transaction of this member, left in flight when a node died or the load stopped, was
                    // committed meanwhile and took this nonce: sign the next one.
                    _nonces[member] = nonce + 1;
                    continue;
                }
                catch (RpcException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Down, paused, or already holding this transaction (relayed): ask whether it is committed anywhere.
                }
                catch (InvalidOperationException)
                {
                    continue; // the node went down between choosing and calling
                }
                catch (RpcException)
                {
                    break;
                }

                if (await FindCommittedAsync(id) is { } height)
                {
                    _nonces[member] = nonce + 1;
                    return (id, height);
                }
            }

            return null;
        }
        finally
        {
            _members[member].Release();
        }
    }

    /// <summary>A distinct record id per member and nonce.</summary>
    private static Hash256 RecordId(int member, ulong nonce)
    {
        Span<byte> id = stackalloc byte[32];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(id, nonce);
        id[8] = (byte)member;
        id[31] = 0xC1;
        return new Hash256(id);
    }

    private async Task<long?> FindCommittedAsync(Hash256 id)
    {
        foreach (var node in cluster.Up.ToList())
        {
            try
            {
                var found = await cluster.Client(node).GetTransactionAsync(new GetTransactionRequest { TransactionId = id.ToString() }, deadline: DateTime.UtcNow.AddSeconds(5));
                if (found.Status == TransactionStatus.Committed)
                {
                    return found.Height;
                }
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException)
            {
            }
        }

        await Task.Delay(200, CancellationToken.None);
        return null;
    }
}
