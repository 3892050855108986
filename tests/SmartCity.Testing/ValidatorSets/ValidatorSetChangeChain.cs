using System.Reflection;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Storage;
using SmartCity.Testing.TestKit;

namespace SmartCity.Testing.ValidatorSets;

/// <summary>
/// A four-block chain of the sample genesis whose validator set changes by governance (shared by the Jobs and API tests):
/// genesis (0), the vote that adds <see cref="Newcomer"/> sealed by three of the four (1), then two blocks sealed by the five (2, 3).
/// </summary>
public sealed class ValidatorSetChangeChain
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private readonly SampleBlocks _blocks = new();

    /// <summary>The sample genesis's four validators (seeds 101-104).</summary>
    public static IReadOnlyList<TestKey> Four { get; } = [new(101, "validator-bj", "", "BJ"), new(102, "validator-tj", "", "TJ"), new(103, "validator-he", "", "HE"), new(104, "validator-xa", "", "XA")];

    public static TestKey Newcomer { get; } = new(105, "validator-bj-2", "", "BJ");

    /// <summary>Genesis (0), the vote that adds <see cref="Newcomer"/> sealed by the four (1), then two blocks sealed by the five (2, 3).</summary>
    public async Task<(LedgerChain Chain, BlockCandidate[] Candidates)> BuildAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        var chain = await LedgerChain.OpenAsync(GenesisBuilder.Sample.Value, Curve, store, null, cancellationToken);
        var candidates = new BlockCandidate[4];
        var vote = chain.Propose(_blocks.VoteIn(Newcomer), SampleBlocks.Day(chain));
        Assert.True((await chain.CommitAsync(vote, SampleBlocks.Seal(chain, vote, Four[0], Four[1], Four[2]), store, cancellationToken)).IsValid);
        candidates[1] = vote;
        for (var height = 2; height <= 3; height++)
        {
            var next = chain.Propose([_blocks.Record()], SampleBlocks.Day(chain));
            var committed = await chain.CommitAsync(next, SampleBlocks.Seal(chain, next, Four[0], Four[1], Four[2], Newcomer), store, cancellationToken);
            Assert.True(committed.IsValid, committed.Reason);
            candidates[height] = next;
        }

        return (chain, candidates);
    }
}

/// <summary>A view of a store that serves another header and certificate for one height (everything else is the store's).</summary>
public class SwappedStore : DispatchProxy
{
    private ILedgerStore _inner = null!;
    private long _height;
    private BlockHeader _header = null!;
    private CommitCertificate _certificate = null!;

    public static ILedgerStore Over(ILedgerStore inner, long height, BlockHeader header, CommitCertificate certificate)
    {
        var proxy = Create<ILedgerStore, SwappedStore>();
        var swapped = (SwappedStore)(object)proxy;
        (swapped._inner, swapped._height, swapped._header, swapped._certificate) = (inner, height, header, certificate);
        return proxy;
    }

    private bool _stateNodesPruned;

    /// <summary>The retention floor the pruned view reports: above every block of the shared chain.</summary>
    public const long PrunedBelow = 4;

    /// <summary>A view of a store whose state-tree nodes are all gone, as after pruning below <see cref="PrunedBelow"/> (blocks are the store's).</summary>
    public static ILedgerStore WithStatePruned(ILedgerStore inner)
    {
        var proxy = Create<ILedgerStore, SwappedStore>();
        var swapped = (SwappedStore)(object)proxy;
        (swapped._inner, swapped._height, swapped._stateNodesPruned) = (inner, -1, true);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (_stateNodesPruned && targetMethod.Name is nameof(ILedgerStore.GetStateNodeAsync))
        {
            return new ValueTask<byte[]?>((byte[]?)null);
        }

        if (_stateNodesPruned && targetMethod.Name is nameof(ILedgerStore.GetStateNode))
        {
            return null;
        }

        if (_stateNodesPruned && targetMethod.Name is nameof(ILedgerStore.GetStateRetentionAsync))
        {
            return new ValueTask<StateRetention>(new StateRetention(PrunedBelow));
        }

        var result = targetMethod.Invoke(_inner, args);
        if (args is not [long height, ..] || height != _height)
        {
            return result;
        }

        return targetMethod.Name switch
        {
            nameof(ILedgerStore.GetBlockAsync) or nameof(ILedgerStore.GetBlockForVerificationAsync) when ((ValueTask<StoredBlock?>)result!).AsTask().GetAwaiter().GetResult() is { } block
                => new ValueTask<StoredBlock?>(block with { Header = Swap(block.Header) }),
            nameof(ILedgerStore.GetHeaderAsync) when ((ValueTask<StoredBlockHeader?>)result!).AsTask().GetAwaiter().GetResult() is { } header
                => new ValueTask<StoredBlockHeader?>(Swap(header)),
            _ => result,
        };
    }

    private StoredBlockHeader Swap(StoredBlockHeader stored)
        => stored with { BlockHash = _header.Hash, Header = _header.Encode(), Certificate = _certificate.Encode() };
}
