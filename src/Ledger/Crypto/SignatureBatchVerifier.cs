namespace SmartCity.Ledger.Crypto;

/// <summary>
/// Checks many signatures at once, spread over the cores, consulting and filling a
/// <see cref="VerifiedSignatureCache"/>. This is what the mempool (on arrival), block validation and the chain audit
/// call. One worker per core claims small contiguous chunks from a shared counter, so the cost per call is one
/// parallel loop, not one allocation per signature.
/// </summary>
public sealed class SignatureBatchVerifier
{
    /// <summary>Below this many items a batch runs on the calling thread: fan-out would cost more than it saves.</summary>
    public const int MinimumParallelBatch = 32;

    /// <summary>Items a worker claims at a time: large enough to make the shared counter cheap, small enough to balance.</summary>
    private const int Chunk = 16;

    private readonly ISignatureScheme _scheme;
    private readonly VerifiedSignatureCache? _cache;
    private readonly int _degreeOfParallelism;

    /// <param name="scheme">The suite's scheme that finds signers: secp256k1 recovery (eth) or SM2 verification against the carried key (gm); native in production.</param>
    /// <param name="cache">Remembered signatures; none when null.</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; all cores when null.</param>
    public SignatureBatchVerifier(ISignatureScheme scheme, VerifiedSignatureCache? cache = null, int? maxDegreeOfParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        _scheme = scheme;
        _cache = cache;
        _degreeOfParallelism = maxDegreeOfParallelism ?? Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfLessThan(_degreeOfParallelism, 1);
    }

    /// <summary>The scheme signatures are checked with (its <see cref="ISignatureScheme.Suite"/> says which suite).</summary>
    public ISignatureScheme Scheme => _scheme;

    public VerifiedSignatureCache? Cache => _cache;

    /// <summary>One check, through the cache.</summary>
    public SignatureCheck Verify(in SignedDigest item)
    {
        if (_cache is not null && _cache.TryGet(item.Digest, item.Signature, out var known))
        {
            return known == item.ExpectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
        }

        var check = _scheme.Recover(item.Digest, item.Signature, out var signer);
        if (check != SignatureCheck.Ok)
        {
            return check;
        }

        _cache?.Add(item.Digest, item.Signature, signer);
        return signer == item.ExpectedSigner ? SignatureCheck.Ok : SignatureCheck.WrongSigner;
    }

    /// <summary>Checks every item, writing the verdict of <c>items[i]</c> to <c>results[i]</c>.</summary>
    public unsafe void Verify(ReadOnlySpan<SignedDigest> items, Span<SignatureCheck> results)
    {
        if (results.Length < items.Length)
        {
            throw new ArgumentException("results must have room for every item", nameof(results));
        }

        var workers = Math.Min(_degreeOfParallelism, items.Length / Chunk);
        if (workers < 2 || items.Length < MinimumParallelBatch)
        {
            VerifyRange(items, results);
            return;
        }

        // Workers claim chunks of Chunk items from a shared counter until none are left, so a thread that is slowed
        // down (a busy core, a noisy neighbour) simply claims fewer chunks instead of holding up the batch. The spans
        // stay pinned for the whole loop, which returns only when every chunk is done.
        fixed (SignedDigest* itemsPointer = items)
        fixed (SignatureCheck* resultsPointer = results)
        {
            var itemsAddress = (nint)itemsPointer;
            var resultsAddress = (nint)resultsPointer;
            var count = items.Length;
            var next = 0;
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
            {
                int start;
                while ((start = Interlocked.Add(ref next, Chunk) - Chunk) < count)
                {
                    var length = Math.Min(Chunk, count - start);
                    VerifyRange(
                        new ReadOnlySpan<SignedDigest>((SignedDigest*)itemsAddress + start, length),
                        new Span<SignatureCheck>((SignatureCheck*)resultsAddress + start, length));
                }
            });
        }
    }

    /// <summary>True when every item is <see cref="SignatureCheck.Ok"/>: the block-validation question.</summary>
    public bool VerifyAll(ReadOnlySpan<SignedDigest> items)
    {
        var results = new SignatureCheck[items.Length];
        Verify(items, results);
        return Array.TrueForAll(results, r => r == SignatureCheck.Ok);
    }

    private void VerifyRange(ReadOnlySpan<SignedDigest> items, Span<SignatureCheck> results)
    {
        for (var i = 0; i < items.Length; i++)
        {
            results[i] = Verify(items[i]);
        }
    }
}
