using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;

namespace SmartCity.Testing.TestKit;

/// <summary>
/// A state machine over an in-memory state with a clock a test moves: submit signs with the signer's next nonce,
/// applies, and keeps the writes of accepted transactions.
/// </summary>
public sealed class TestLedger
{
    private TestLedger(GenesisDocument genesis)
    {
        Genesis = genesis;
        Machine = new CreditStateMachine(genesis, genesis.Crypto.CreateSuite().Signatures);
        State = new InMemoryState(Machine.Suite);
        State.Apply(Machine.GenesisWrites());
        Now = genesis.GenesisTime.AddDays(1);
    }

    public GenesisDocument Genesis { get; }

    public CreditStateMachine Machine { get; }

    /// <summary>The chain's crypto suite (from its genesis).</summary>
    public CryptoSuiteId Suite => Genesis.Crypto.Suite;

    public InMemoryState State { get; }

    public DateTimeOffset Now { get; private set; }

    public static TestLedger Start(GenesisDocument? genesis = null) => new(genesis ?? GenesisBuilder.Sample.Value);

    /// <summary>A ledger of the sample genesis in <paramref name="suite"/>.</summary>
    public static TestLedger Start(CryptoSuiteId suite) => new(GenesisBuilder.SampleIn(suite));

    /// <summary>Signs as <paramref name="signer"/>'s key in the genesis's suite, under its domain.</summary>
    public static SignedTransaction Sign(GenesisDocument genesis, TestKey signer, ITransactionBody body, ulong nonce, ulong? chainId = null)
    {
        ArgumentNullException.ThrowIfNull(genesis);
        ArgumentNullException.ThrowIfNull(signer);
        var domain = genesis.Domain(CryptoSuite.For(genesis.Crypto.Suite));
        return SignedTransaction.Sign(signer.SignerIn(genesis.Crypto.Suite), domain, chainId ?? genesis.ChainId, nonce, body);
    }

    /// <summary>The key's address in this ledger's suite.</summary>
    public Address AddressOf(TestKey key) => key.AddressIn(Suite);

    public ulong NextNonce(TestKey signer) => State.Read(StateKeys.Nonce(AddressOf(signer)), CounterState.Read)?.Value ?? 0;

    public SignedTransaction Sign(TestKey signer, ITransactionBody body) => Sign(Genesis, signer, body, NextNonce(signer));

    public Transition Submit<T>(TransactionBuilder<T> builder)
        where T : TransactionBuilder<T>
        => Submit(builder.Signer, builder.Body());

    public Transition Submit(TestKey signer, ITransactionBody body) => Submit(Sign(signer, body));

    public Transition Submit(SignedTransaction transaction) => Keep(Machine.Apply(State, transaction, Now));

    public Transition Submit(byte[] encoded) => Keep(Machine.Apply(State, encoded, Now));

    /// <summary>Submits and fails the test unless the transaction is accepted.</summary>
    public Transition Accept<T>(TransactionBuilder<T> builder)
        where T : TransactionBuilder<T>
        => Accept(builder.Signer, builder.Body());

    public Transition Accept(TestKey signer, ITransactionBody body)
    {
        var transition = Submit(signer, body);
        Assert.True(transition.IsAccepted, transition.ToString());
        return transition;
    }

    public void AdvanceBy(TimeSpan time) => Now += time;

    public void AdvanceTo(DateTimeOffset time) => Now = time;

    public ulong UnixNow => LedgerTime.ToUnixSeconds(Now);

    public T? Read<T>(StateKey key, Func<SmartCity.Ledger.Codec.IFieldReader, T> read)
        where T : class
        => State.Read(key, read);

    private Transition Keep(Transition transition)
    {
        if (transition.IsAccepted)
        {
            State.Apply(transition.Writes);
        }

        return transition;
    }
}
