using System.Collections.Concurrent;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Node;

/// <summary>
/// The node's pending transactions, owned by the writer (only the writer mutates it; other threads may only look a
/// transaction up by id). Per signer, transactions are ordered by nonce: those continuing the signer's next nonce
/// without a gap are <em>ready</em> and wait in one queue in the order they became ready (a block takes a prefix of
/// it, so each signer's transactions stay in nonce order); the others are <em>held</em> until the gap fills, for at
/// most <see cref="LedgerNodeOptions.HeldTransactionLifetime"/>. Bounded in total and per signer.
/// </summary>
internal sealed class Mempool(LedgerNodeOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<Hash256, Entry> _byId = new();
    private readonly ConcurrentDictionary<ReadOnlyMemory<byte>, Entry> _byBytes = new(TransactionBytesComparer.Instance);
    private readonly Dictionary<Address, SignerQueue> _signers = [];
    private readonly LinkedList<Entry> _ready = new();
    private readonly Queue<(Entry Entry, long HeldAt)> _held = new();

    // The entries in _byId, kept beside it: ConcurrentDictionary.Count takes every one of its locks, and admission asks
    // for the count at every transaction. Only the writer changes it; others read it as it was at some recent moment.
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public int ReadyCount => _ready.Count;

    public bool Contains(Hash256 id) => _byId.ContainsKey(id);

    /// <summary>Safe from any thread: the verified transaction with this id, if it is waiting here.</summary>
    public bool TryGet(Hash256 id, out VerifiedTransaction transaction)
    {
        if (_byId.TryGetValue(id, out var entry))
        {
            transaction = entry.Transaction;
            return true;
        }

        transaction = null!;
        return false;
    }

    /// <summary>
    /// Safe from any thread: the verified transaction whose canonical bytes are exactly <paramref name="bytes"/>, if it
    /// is waiting here. A block's validation finds what admission decoded and verified without decoding it again (equal
    /// bytes decode to the same transaction under the same chain).
    /// </summary>
    public bool TryGetByBytes(ReadOnlyMemory<byte> bytes, out VerifiedTransaction transaction)
    {
        if (_byBytes.TryGetValue(bytes, out var entry))
        {
            transaction = entry.Transaction;
            return true;
        }

        transaction = null!;
        return false;
    }

    /// <summary>
    /// Admits a verified transaction or says why not. <paramref name="account"/> reads the signer's membership and
    /// next nonce at the head; it is consulted only for a signer with nothing waiting.
    /// </summary>
    public (AdmissionCode Code, string Reason) Admit(VerifiedTransaction tx, Func<Address, (bool IsMember, ulong Nonce)> account)
    {
        if (_byId.ContainsKey(tx.Hash))
        {
            return (AdmissionCode.AlreadyPending, $"transaction {tx.Hash} is already waiting in the mempool");
        }

        var isNew = !_signers.TryGetValue(tx.Signer, out var queue);
        if (isNew)
        {
            var (isMember, nonce) = account(tx.Signer);
            if (!isMember)
            {
                return (AdmissionCode.NotAMember, $"{tx.Signer} is not a member");
            }

            queue = new SignerQueue(nonce);
        }

        if (tx.Nonce < queue!.StateNonce)
        {
            return (AdmissionCode.NonceReused, $"nonce {tx.Nonce} is below the signer's next nonce {queue.StateNonce}: a replay or a stale transaction");
        }

        if (queue.ByNonce.TryGetValue(tx.Nonce, out var holder))
        {
            return (AdmissionCode.NonceTaken, $"nonce {tx.Nonce} is already held by transaction {holder.Transaction.Hash}");
        }

        if (tx.Nonce - queue.NextReady > (ulong)options.MaxNonceGap)
        {
            return (AdmissionCode.NonceTooFarAhead, $"nonce {tx.Nonce} is more than {options.MaxNonceGap} ahead of the signer's next nonce {queue.NextReady}");
        }

        if (queue.ByNonce.Count >= options.MaxTransactionsPerSigner)
        {
            return (AdmissionCode.SignerQueueFull, $"{tx.Signer} already has {queue.ByNonce.Count} transactions waiting (limit {options.MaxTransactionsPerSigner})");
        }

        if (_count >= options.MempoolCapacity)
        {
            return (AdmissionCode.MempoolFull, $"the mempool holds {_count} transactions (limit {options.MempoolCapacity}); retry later");
        }

        if (isNew)
        {
            _signers.Add(tx.Signer, queue);
        }

        var entry = new Entry(tx);
        _byId[tx.Hash] = entry; // a new id: checked above
        Volatile.Write(ref _count, _count + 1);
        _byBytes[tx.Bytes] = entry;
        queue.ByNonce.Add(tx.Nonce, entry);
        if (tx.Nonce == queue.NextReady)
        {
            Promote(queue);
        }
        else
        {
            Hold(entry);
        }

        return (AdmissionCode.Accepted, string.Empty);
    }

    /// <summary>The ready transactions a block may take, oldest first, up to the block limits. Nothing is removed.</summary>
    public List<VerifiedTransaction> PeekReady(int maxCount, int maxBytes) => PeekReady(maxCount, maxBytes, null);

    /// <summary>As above, passing over the transactions in <paramref name="passOver"/> (a block being committed).</summary>
    public List<VerifiedTransaction> PeekReady(int maxCount, int maxBytes, HashSet<Hash256>? passOver)
    {
        var taken = new List<VerifiedTransaction>(Math.Min(maxCount, _ready.Count));
        var bytes = 0;
        for (var node = _ready.First; node is not null && taken.Count < maxCount; node = node.Next)
        {
            if (passOver is not null && passOver.Contains(node.Value.Transaction.Hash))
            {
                continue;
            }

            var length = node.Value.Transaction.Bytes.Length;
            if (bytes + length > maxBytes)
            {
                break;
            }

            taken.Add(node.Value.Transaction);
            bytes += length;
        }

        return taken;
    }

    /// <summary>
    /// Brings the mempool up to date with a block (committed, or a proposal left empty by the rules): the block's
    /// transactions leave; those its rules rejected leave with their reason (a transaction skipped only because an
    /// earlier nonce of its signer was rejected stays, held); every signer the block touched is re-seated on its nonce
    /// at the new head, which drops transactions whose nonce another transaction took. Returns what became of each
    /// transaction that left, except the block's own (their outcome is the commit).
    /// </summary>
    public List<TransactionOutcome> Settle(IReadOnlyList<IncludedTransaction> included, IReadOnlyList<SkippedTransaction> skipped, long height, Func<Address, ulong> nonceAtHead)
    {
        var outcomes = new List<TransactionOutcome>();
        var touched = new HashSet<Address>();
        foreach (var tx in included)
        {
            if (Remove(tx.Hash) is { } entry)
            {
                touched.Add(entry.Transaction.Signer);
            }
            else if (tx.Decoded is { } decoded)
            {
                touched.Add(decoded.Signer);
            }
        }

        foreach (var skip in skipped)
        {
            if (skip.Code != RejectionCode.NonceGap && Remove(skip.Hash) is { } entry)
            {
                touched.Add(entry.Transaction.Signer);
                outcomes.Add(TransactionOutcome.Rejected(skip.Hash, skip.Code, skip.Reason, height));
            }
        }

        foreach (var signer in touched)
        {
            if (_signers.TryGetValue(signer, out var queue))
            {
                Reseat(signer, queue, nonceAtHead(signer), height, outcomes);
            }
        }

        return outcomes;
    }

    /// <summary>Drops held transactions whose gap did not fill within their lifetime.</summary>
    public List<TransactionOutcome> ExpireHeld()
    {
        var outcomes = new List<TransactionOutcome>();
        var now = time.GetTimestamp();
        while (_held.TryPeek(out var head) && time.GetElapsedTime(head.HeldAt, now) >= options.HeldTransactionLifetime)
        {
            _held.Dequeue();
            var entry = head.Entry;
            if (entry.Removed || entry.ReadyNode is not null || entry.HeldAt != head.HeldAt)
            {
                continue; // left, promoted, or held again later (that later hold has its own place in the queue)
            }

            var tx = entry.Transaction;
            var queue = _signers[tx.Signer];
            Remove(tx.Hash);
            outcomes.Add(TransactionOutcome.Rejected(tx.Hash, RejectionCode.NonceGap, $"held for {options.HeldTransactionLifetime} waiting for nonce {queue.NextReady} of {tx.Signer}, which never came"));
            DropIfEmpty(tx.Signer, queue);
        }

        return outcomes;
    }

    /// <summary>Everything waiting, for the node's shutdown.</summary>
    public IEnumerable<Hash256> Ids => _byId.Keys;

    private void Reseat(Address signer, SignerQueue queue, ulong nonce, long height, List<TransactionOutcome> outcomes)
    {
        queue.StateNonce = nonce;
        while (queue.ByNonce.Count > 0 && queue.ByNonce.Keys.First() is var lowest && lowest < nonce)
        {
            var stale = queue.ByNonce[lowest];
            Remove(stale.Transaction.Hash);
            outcomes.Add(TransactionOutcome.Rejected(stale.Transaction.Hash, RejectionCode.NonceReused, $"nonce {lowest} was taken by another transaction of {signer} committed by height {height}", height));
        }

        var expected = nonce;
        var contiguous = true;
        foreach (var (n, entry) in queue.ByNonce)
        {
            contiguous &= n == expected;
            if (contiguous)
            {
                expected++;
                if (entry.ReadyNode is null)
                {
                    entry.ReadyNode = _ready.AddLast(entry);
                }
            }
            else if (entry.ReadyNode is not null)
            {
                _ready.Remove(entry.ReadyNode);
                entry.ReadyNode = null;
                Hold(entry);
            }
        }

        queue.NextReady = expected;
        DropIfEmpty(signer, queue);
    }

    private void Promote(SignerQueue queue)
    {
        while (queue.ByNonce.TryGetValue(queue.NextReady, out var next))
        {
            next.ReadyNode ??= _ready.AddLast(next);
            queue.NextReady++;
        }
    }

    private void Hold(Entry entry)
    {
        entry.HeldAt = time.GetTimestamp();
        _held.Enqueue((entry, entry.HeldAt));
    }

    private Entry? Remove(Hash256 id)
    {
        if (!_byId.TryRemove(id, out var entry))
        {
            return null;
        }

        Volatile.Write(ref _count, _count - 1);

        _byBytes.TryRemove(entry.Transaction.Bytes, out _);

        entry.Removed = true;
        if (entry.ReadyNode is not null)
        {
            _ready.Remove(entry.ReadyNode);
            entry.ReadyNode = null;
        }

        _signers[entry.Transaction.Signer].ByNonce.Remove(entry.Transaction.Nonce);
        return entry;
    }

    private void DropIfEmpty(Address signer, SignerQueue queue)
    {
        if (queue.ByNonce.Count == 0)
        {
            _signers.Remove(signer);
        }
    }

    private sealed class Entry(VerifiedTransaction transaction)
    {
        public VerifiedTransaction Transaction { get; } = transaction;

        public LinkedListNode<Entry>? ReadyNode { get; set; }

        public long HeldAt { get; set; }

        public bool Removed { get; set; }
    }

    /// <summary>One signer's waiting transactions: its nonce at the head and the next nonce after the ready run.</summary>
    private sealed class SignerQueue(ulong stateNonce)
    {
        public ulong StateNonce { get; set; } = stateNonce;

        public ulong NextReady { get; set; } = stateNonce;

        public SortedDictionary<ulong, Entry> ByNonce { get; } = [];
    }

    /// <summary>Compares transactions by their canonical bytes (content, not buffer).</summary>
    private sealed class TransactionBytesComparer : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly TransactionBytesComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> obj)
        {
            var hash = default(HashCode);
            hash.AddBytes(obj.Span);
            return hash.ToHashCode();
        }
    }
}
