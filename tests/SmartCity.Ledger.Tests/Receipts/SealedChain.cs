using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Proofs;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Receipts;

/// <summary>A three-block chain over the sample genesis in one crypto suite, sealed by three of its four validators.</summary>
internal sealed class SealedChain
{
    public const string LicenceKey = "licence/1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";

    private readonly List<byte[]> _transactions = [];
    private readonly StateTree _state;

    private SealedChain(CryptoSuiteId suite)
    {
        Suite = CryptoSuite.For(suite);
        Anchor = TrustAnchor.FromGenesis(GenesisBuilder.SampleIn(suite));
        _state = new StateTree(new InMemoryStateNodeStore(), Suite);
        History = new HistoryTree(new InMemoryHistoryNodeStore(), 0, Suite);
    }

    public CryptoSuite Suite { get; }

    /// <summary>The suite's signature scheme: what a verifier of this chain's receipts is given.</summary>
    public ISignatureScheme Curve => Suite.Signatures;

    public TrustAnchor Anchor { get; }

    public HistoryTree History { get; }

    public BlockHeader Head { get; private set; } = null!;

    public CommitCertificate Certificate { get; private set; } = null!;

    public Hash256 StateRoot { get; private set; } = StateTree.EmptyRoot;

    /// <summary>The chain; <paramref name="licenceValue"/> replaces the licence record (to test values that are not one).</summary>
    public static SealedChain Build(byte[]? licenceValue = null, CryptoSuiteId suite = CryptoSuiteId.Eth)
    {
        var chain = new SealedChain(suite);
        var random = new Random(20261121);
        var previous = Hash256.Zero;
        foreach (var count in new[] { 12, 20, 5 })
        {
            var block = Enumerable.Range(0, count).Select(_ => { var tx = new byte[random.Next(60, 400)]; random.NextBytes(tx); return tx; }).ToList();
            var writes = block.Select(tx => new StateWrite(chain.Suite.Hash(tx), tx[..16])).ToList();
            if (chain.Head is null)
            {
                var licence = new LicenceState("uscc:91350100M000100Y43", "营业执照", "110105", TestKeys.BeijingRegulator.AddressIn(suite), 1_767_225_600, 1_893_456_000, chain.Suite.Hash("scan"u8), LicenceStatus.Valid, 1_767_225_600, "", "");
                writes.Add(new StateWrite(new StateKey(LicenceKey).HashIn(chain.Suite), licenceValue ?? StateValue.Encode(licence)));
            }

            chain.Seal(block, writes, ref previous);
        }

        return chain;
    }

    public InclusionReceipt InclusionReceipt(int index)
        => new(Anchor.ChainId, Head, Certificate, _transactions[index], History.ProveInclusion(index, History.Size));

    public StateReceipt StateReceipt(string key)
    {
        var hash = new StateKey(key).HashIn(Suite);
        return new(Anchor.ChainId, Head, Certificate, key, _state.Get(StateRoot, hash), _state.Prove(StateRoot, hash));
    }

    private void Seal(List<byte[]> block, List<StateWrite> writes, ref Hash256 previous)
    {
        var blockTree = new HistoryTree(new InMemoryHistoryNodeStore(), 0, Suite);
        foreach (var tx in block)
        {
            blockTree.Append(tx);
            History.Append(tx);
            _transactions.Add(tx);
        }

        StateRoot = _state.Apply(StateRoot, [.. writes]);
        var height = (Head?.Height ?? 0) + 1;
        Head = new BlockHeader(Anchor.ChainId, height, previous, 1_790_000_000_000 + height, Anchor.Validators.ProposerFor(height, 0), 0, block.Count, blockTree.Root, StateRoot, History.Size, History.Root, Anchor.Validators.Hash)
        {
            Crypto = Suite.Id,
        };
        var header = Head;
        Certificate = CommitCertificate.FromSeals(Curve, Anchor.DomainSeparator, header, new[] { 0, 2, 3 }.Select(v => CommitSeal.Sign(TestKeys.Validators[v].SignerIn(Suite.Id), Anchor.DomainSeparator, header)));
        previous = Head.Hash;
    }
}
