using System.Text.Json;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Jobs.State;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.Storage;

namespace SmartCity.Ledger.Jobs.Reconciliation;

/// <summary>How far reconciliation got with each peer, and what it last reported (so a standing divergence is logged every run but persisted once).</summary>
public sealed record ReconciliationCheckpoint(Dictionary<string, long> PeerHeights, Dictionary<string, string> Reported)
{
    public static ReconciliationCheckpoint Start => new(new Dictionary<string, long>(StringComparer.Ordinal), new Dictionary<string, string>(StringComparer.Ordinal));

    public string ToJson() => JsonSerializer.Serialize(this, JobJson.Options);

    public static ReconciliationCheckpoint? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<ReconciliationCheckpoint>(json, JobJson.Options);
}

/// <summary>One disagreement found: a peer's header, a peer's certificate, or a projection row.</summary>
public sealed record Divergence(string Kind, long Height, string Peer, string Subject, string Detail);

/// <summary>What one reconciliation run compared and found.</summary>
public sealed record ReconciliationRun(ReconciliationCheckpoint Checkpoint, IReadOnlyList<Divergence> Divergences, long HeightsCompared, long ProjectionObjectsChecked, IReadOnlyList<string> UnavailablePeers);

/// <summary>
/// Reconciliation: this node against every peer at the heights both hold (header hash, and on a difference which of
/// state root, history root and size, transaction root, parent, time differ; the peer's certificate must prove its
/// header final under the validator set in force at that height on this node's chain: the genesis set, or the set the
/// state after the block before it installs, proven from this node's state-tree nodes — <see cref="ValidatorSetWalk"/>), and this node's query projections against its own certified state
/// tree (<see cref="ProjectionReconciler"/>). It only reads and reports; it never repairs.
/// </summary>
public sealed class Reconciler(GenesisDocument genesis, ISignatureScheme curve)
{
    private readonly TrustAnchor _anchor = TrustAnchor.FromGenesis(genesis);

    /// <summary>Compares with each peer from the checkpoint on (<paramref name="maxHeightsPerPeer"/> heights per peer per run), then the projections when asked.</summary>
    public async Task<ReconciliationRun> RunAsync(ILedgerStore own, IReadOnlyList<ILedgerPeer> peers, ReconciliationCheckpoint from, long maxHeightsPerPeer, bool checkProjections, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(from);
        var divergences = new List<Divergence>();
        var unavailable = new List<string>();
        var heights = new Dictionary<string, long>(from.PeerHeights, StringComparer.Ordinal);
        long compared = 0;
        var ownHead = (await own.GetHeadAsync(cancellationToken).ConfigureAwait(false))?.Height ?? -1;
        var sets = new ValidatorSetWalk(_anchor.Validators, own, CryptoSuite.For(_anchor.Crypto));
        foreach (var peer in peers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long peerHead;
            try
            {
                peerHead = await peer.GetHeadHeightAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PeerUnavailableException)
            {
                unavailable.Add(peer.Name);
                continue;
            }

            var common = Math.Min(ownHead, peerHead);
            if (common < 0)
            {
                continue;
            }

            // From where the last run stopped; the newest common height is always compared again.
            var start = Math.Min(heights.GetValueOrDefault(peer.Name, -1) + 1, common);
            var end = Math.Min(common, start + maxHeightsPerPeer - 1);
            var reached = start - 1;
            for (var height = start; height <= end; height++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Divergence? divergence;
                try
                {
                    divergence = await CompareAsync(own, peer, height, sets, cancellationToken).ConfigureAwait(false);
                }
                catch (PeerUnavailableException)
                {
                    unavailable.Add(peer.Name);
                    break;
                }

                compared++;
                if (divergence is not null)
                {
                    // Every later header links to this one: the first divergent height is the finding.
                    divergences.Add(divergence);
                    break;
                }

                reached = height;
            }

            heights[peer.Name] = Math.Max(heights.GetValueOrDefault(peer.Name, -1), reached);
        }

        long objects = 0;
        if (checkProjections)
        {
            var projection = await ProjectionReconciler.RunAsync(own, cancellationToken).ConfigureAwait(false);
            objects = projection.ObjectsChecked;
            divergences.AddRange(projection.Divergences);
        }

        return new ReconciliationRun(new ReconciliationCheckpoint(heights, new Dictionary<string, string>(from.Reported, StringComparer.Ordinal)), divergences, compared, objects, unavailable);
    }

    private async Task<Divergence?> CompareAsync(ILedgerStore own, ILedgerPeer peer, long height, ValidatorSetWalk sets, CancellationToken cancellationToken)
    {
        var mine = await own.GetHeaderAsync(height, cancellationToken).ConfigureAwait(false);
        if (mine is null || !BlockHeader.TryDecode(mine.Header.Span, out var ours, out _))
        {
            return null; // this node's own damage is the chain audit's finding
        }

        PeerHeader? theirs;
        try
        {
            theirs = await peer.GetHeaderAsync(height, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreCorruptedException e)
        {
            return new Divergence(JobReportKinds.PeerDivergence, height, peer.Name, "block", $"the peer cannot read its block {height}: {e.Message}");
        }

        if (theirs is null)
        {
            return null;
        }

        if (!BlockHeader.TryDecode(theirs.Header.Span, out var header, out var error))
        {
            return new Divergence(JobReportKinds.PeerDivergence, height, peer.Name, "header", $"the peer's header at {height} does not decode: {error}");
        }

        // Block 0 is the genesis block, defined by the genesis file and certified by nobody. Later blocks are certified by
        // the set in force on this node's chain at that height.
        string? certified = null;
        if (height > 0)
        {
            var inForce = await SetInForceAsync(own, ours!, sets, cancellationToken).ConfigureAwait(false);
            if (inForce.Check == SetInForceCheck.HandOverStatePruned)
            {
                return new Divergence(JobReportKinds.HandOverStatePruned, height, peer.Name, "validator set", $"the peer's certificate for block {height} cannot be checked: {inForce.Reason}");
            }

            certified = !inForce.IsKnown ? $"the validator set in force is not known: {inForce.Reason}"
                : CommitCertificate.TryDecode(theirs.Certificate.Span, out var certificate, out error)
                    ? certificate!.Verify(header!, inForce.Set!, _anchor.DomainSeparator, curve) is { IsValid: false } verdict ? $"{verdict.Check}: {verdict.Reason}" : null
                    : $"it does not decode: {error}";
        }

        if (header!.Hash != ours!.Hash)
        {
            var fields = FieldsThatDiffer(ours, header);
            return new Divergence(JobReportKinds.PeerDivergence, height, peer.Name, string.Join(",", fields),
                $"block {height}: this node has {ours.Hash}, the peer {header.Hash} (differs in {string.Join(", ", fields)}); the peer's certificate {(certified is null ? "is valid: two certified blocks at one height" : "is not valid: " + certified)}");
        }

        return certified is null
            ? null
            : new Divergence(JobReportKinds.PeerCertificateInvalid, height, peer.Name, "certificate", $"the peer's certificate for block {height} does not prove it final: {certified}");
    }

    /// <summary>The set that certifies this node's block <paramref name="ours"/> (its own chain is the chain audit's to check).</summary>
    private static async ValueTask<SetInForce> SetInForceAsync(ILedgerStore own, BlockHeader ours, ValidatorSetWalk sets, CancellationToken cancellationToken)
    {
        if (sets.Proven(ours.ValidatorSetHash) is { } known)
        {
            return new SetInForce(SetInForceCheck.InForce, known, null);
        }

        var stored = await own.GetHeaderAsync(ours.Height - 1, cancellationToken).ConfigureAwait(false);
        if (stored is null || !BlockHeader.TryDecode(stored.Header.Span, out var previous, out _) || previous!.Hash != ours.PreviousHash)
        {
            return new SetInForce(SetInForceCheck.NotTheStatesSet, null, $"this node's block {ours.Height - 1} does not read back as the parent of its block {ours.Height}");
        }

        return await sets.SetNamedByAsync(previous, ours, cancellationToken).ConfigureAwait(false);
    }

    private static List<string> FieldsThatDiffer(BlockHeader a, BlockHeader b)
    {
        var fields = new List<string>();
        if (a.StateRoot != b.StateRoot)
        {
            fields.Add("state root");
        }

        if (a.HistoryRoot != b.HistoryRoot || a.HistorySize != b.HistorySize)
        {
            fields.Add("history root");
        }

        if (a.TransactionRoot != b.TransactionRoot || a.TransactionCount != b.TransactionCount)
        {
            fields.Add("transaction root");
        }

        if (a.PreviousHash != b.PreviousHash)
        {
            fields.Add("parent");
        }

        if (a.TimestampMs != b.TimestampMs || a.Proposer != b.Proposer || a.Round != b.Round || a.ValidatorSetHash != b.ValidatorSetHash || a.ChainId != b.ChainId)
        {
            fields.Add("time, proposer, round or validator set");
        }

        return fields.Count > 0 ? fields : ["header hash"];
    }
}
