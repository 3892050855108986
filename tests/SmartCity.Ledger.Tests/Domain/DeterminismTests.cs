using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Tests.Domain;

public sealed class DeterminismTests(ITestOutputHelper output)
{
    private const int Transactions = 3000;

    [Theory]
    [InlineData(1)]
    [InlineData(20261121)]
    public void Independent_engines_and_an_engine_restored_from_a_snapshot_reach_the_same_state(int seed)
    {
        var genesis = GenesisBuilder.Sample.Value;
        var (history, snapshot, final) = Generate(genesis, seed);

        // B: a fresh engine over the managed secp256k1, replaying every transaction from genesis.
        var b = Replay(genesis, ManagedSecp256k1.Instance, Genesis(genesis), history);

        // C: an engine started from A's serialised state halfway through, replaying the rest.
        var c = Replay(genesis, Secp256k1.Default, InMemoryState.Restore(snapshot, CryptoSuite.Eth), history[(Transactions / 2)..]);

        Assert.Equal(final, b.Digest());
        Assert.Equal(final, c.Digest());

        // D: the same history over the sparse Merkle tree, read through the tree itself: same outcomes, and the
        // tree's root equals the root of a tree built from B's final contents in one batch.
        var tree = new StateTree(new InMemoryStateNodeStore(), CryptoSuite.Eth);
        var root = Replay(genesis, Secp256k1.Default, tree, tree.Apply(StateTree.EmptyRoot, [.. new CreditStateMachine(genesis, Secp256k1.Default).GenesisWrites()]), history);
        var rebuilt = new StateTree(new InMemoryStateNodeStore(), CryptoSuite.Eth);
        Assert.Equal(rebuilt.Apply(StateTree.EmptyRoot, [.. b.Entries.Select(e => new StateWrite(e.Key, e.Value))]), root);

        var outcomes = string.Join(", ", history.GroupBy(h => h.Code).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}: {g.Count()}"));
        output.WriteLine(outcomes);
        var accepted = history.Count(h => h.Code == RejectionCode.None);
        var codes = history.Select(h => h.Code).Distinct().Count();
        Assert.True(accepted >= Transactions / 5 && accepted <= Transactions * 9 / 10, outcomes);
        Assert.True(codes >= 25, $"only {codes} distinct outcomes ({outcomes}): the generator should exercise most rules");
    }

    private static (List<Step> History, byte[] Snapshot, Hash256 Final) Generate(GenesisDocument genesis, int seed)
    {
        var random = new RandomTransactions(seed);
        var machine = new CreditStateMachine(genesis, Secp256k1.Default);
        var state = Genesis(genesis);
        var now = genesis.GenesisTime.AddDays(1);
        var history = new List<Step>(Transactions);
        byte[] snapshot = [];
        for (var i = 0; i < Transactions; i++)
        {
            if (i == Transactions / 2)
            {
                snapshot = state.Snapshot();
            }

            now += random.NextPause();
            var (signer, body) = random.Next(LedgerTime.ToUnixSeconds(now));
            var nonce = (state.Read(StateKeys.Nonce(signer.Address), CounterState.Read)?.Value ?? 0) + (ulong)random.NextNonceError();
            var signed = TestLedger.Sign(genesis, signer, body, nonce);
            var bytes = random.NextEnvelopeDamage() switch
            {
                1 => TransactionCodec.Encode(signed with { ChainId = 1 }),
                2 => [.. TransactionCodec.Encode(signed), 0],
                3 => TransactionCodec.Encode(signed with { Signer = TestKeys.HebeiRegulator.Address }),
                _ => TransactionCodec.Encode(signed),
            };

            var transition = machine.Apply(state, bytes, now);
            state.Apply(transition.Writes);
            history.Add(new Step(bytes, now, transition.Code, WritesDigest(transition)));
        }

        return (history, snapshot, state.Digest());
    }

    private static InMemoryState Replay(GenesisDocument genesis, ISecp256k1 secp256k1, InMemoryState state, IReadOnlyList<Step> steps)
    {
        var machine = new CreditStateMachine(genesis, secp256k1);
        foreach (var step in steps)
        {
            var transition = machine.Apply(state, step.Bytes, step.Time);
            Assert.Equal(step.Code, transition.Code);
            Assert.Equal(step.WritesDigest, WritesDigest(transition));
            state.Apply(transition.Writes);
        }

        return state;
    }

    private static Hash256 Replay(GenesisDocument genesis, ISecp256k1 secp256k1, StateTree tree, Hash256 root, IReadOnlyList<Step> steps)
    {
        var machine = new CreditStateMachine(genesis, secp256k1);
        foreach (var step in steps)
        {
            var transition = machine.Apply(new StateTreeReader(tree, root), step.Bytes, step.Time);
            Assert.Equal(step.Code, transition.Code);
            root = tree.Apply(root, [.. transition.Writes]);
        }

        return root;
    }

    private static InMemoryState Genesis(GenesisDocument genesis)
    {
        var state = new InMemoryState(CryptoSuite.Eth);
        state.Apply(new CreditStateMachine(genesis, Secp256k1.Default).GenesisWrites());
        return state;
    }

    /// <summary>Keccak-256 over the writes sorted by key: what a state tree would be fed.</summary>
    private static Hash256 WritesDigest(Transition transition)
    {
        var scratch = new InMemoryState(CryptoSuite.Eth);
        scratch.Apply(transition.Writes.Where(w => !w.IsDelete));
        var deletes = transition.Writes.Where(w => w.IsDelete).Select(w => w.Key).Order().SelectMany(k => k.ToArray());
        return Keccak256.Hash([.. scratch.Snapshot(), .. deletes]);
    }

    private sealed record Step(byte[] Bytes, DateTimeOffset Time, RejectionCode Code, Hash256 WritesDigest);
}
