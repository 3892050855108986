using System.Globalization;
using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.State;
using SmartCity.Testing.TestKit;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Tests.Model;

/// <summary>
/// The engine against a shadow model written from docs/domain.md: a seeded stream of honest and adversarial
/// transactions of every kind; for each one the engine and the model must give the same answer — accepted, or the
/// same rejection code — and every few hundred steps the objects of both must agree.
/// Runs in both crypto suites (the same stream, signed and checked in eth or gm). CI: eth 4 seeds × 5,000 transactions,
/// gm 1 seed × 5,000 (a gm transaction costs an SM2 signature in BouncyCastle and an SM2 verify, several times an eth
/// one; the rules are the same code in both, the suite only changes signatures, ids and state-key hashes).
/// Replay one seed: SMARTCITY_MODEL_SEED=n (and SMARTCITY_MODEL_STEPS=n; it runs in both suites).
/// Soak: SMARTCITY_MODEL_SEEDS=n runs seeds 1..n in both suites (SMARTCITY_MODEL_FIRST_SEED moves the start).
/// </summary>
public sealed class ModelBasedTests(ITestOutputHelper output)
{
    private const int DefaultSteps = 5_000;
    private const int CompareEvery = 250;

    /// <summary>CI seeds of the gm suite (see the class summary).</summary>
    private const int GmSeeds = 1;

    public static TheoryData<CryptoSuiteId, int> Seeds()
    {
        var data = new TheoryData<CryptoSuiteId, int>();
        if (Number("SMARTCITY_MODEL_SEED") is { } one)
        {
            data.Add(CryptoSuiteId.Eth, one);
            data.Add(CryptoSuiteId.Gm, one);
            return data;
        }

        var first = Number("SMARTCITY_MODEL_FIRST_SEED") ?? 1;
        var soak = Number("SMARTCITY_MODEL_SEEDS");
        foreach (var (suite, count) in new[] { (CryptoSuiteId.Eth, soak ?? 4), (CryptoSuiteId.Gm, soak ?? GmSeeds) })
        {
            for (var seed = first; seed < first + count; seed++)
            {
                data.Add(suite, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void The_engine_accepts_and_rejects_exactly_what_the_model_of_the_docs_does(CryptoSuiteId suite, int seed)
    {
        var steps = Number("SMARTCITY_MODEL_STEPS") ?? DefaultSteps;
        var ledger = TestLedger.Start(suite);
        var model = new LedgerModel(ledger.Genesis);
        var generator = new AdversarialTransactions(seed, model, suite);
        var outcomes = new Dictionary<RejectionCode, int>();
        var acceptedKinds = new HashSet<TransactionKind>();
        var recent = new Queue<string>();

        for (var step = 0; step < steps; step++)
        {
            ledger.AdvanceBy(generator.NextPause());
            var now = ledger.UnixNow;
            var (signer, nonceOffset, body, intent) = generator.Next(now);
            var nonce = (ulong)Math.Max(0, (long)ledger.NextNonce(signer) + nonceOffset);
            var expected = model.Predict(signer.AddressIn(suite), nonce, body, now);
            var transaction = TestLedger.Sign(ledger.Genesis, signer, body, nonce);
            var actual = ledger.Submit(transaction);

            var line = $"#{step} {intent}: {body.Kind} by {signer.Name} (nonce {nonce}) at {ledger.Now:yyyy-MM-dd HH:mm:ss} -> {(actual.IsAccepted ? "accepted" : actual.Code.ToString())}";
            if (actual.Code != expected)
            {
                Assert.Fail(Disagreement(seed, step, line, expected, actual, body, recent));
            }

            Remember(recent, line);
            outcomes[actual.Code] = outcomes.GetValueOrDefault(actual.Code) + 1;
            if (actual.IsAccepted)
            {
                model.Apply(signer.AddressIn(suite), body, now);
                acceptedKinds.Add(body.Kind);
                AssertTouchedObjectsExist(ledger, body, seed, step);
            }

            if ((step + 1) % CompareEvery == 0 || step == steps - 1)
            {
                var difference = StateDifference(model, ledger, suite);
                Assert.True(difference is null, $"{difference}\n  after {line}\n  {Replay(seed, step + 1)}");
            }
        }

        output.WriteLine($"{suite} seed {seed}: {steps} transactions, {outcomes.GetValueOrDefault(RejectionCode.None)} accepted; " +
            string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
        if (steps >= DefaultSteps)
        {
            // The stream is not vacuous: every kind gets accepted, and most rules get broken.
            Assert.Equal(TransactionCatalogue.Kinds.Order(), acceptedKinds.Order());
            var missing = Enum.GetValues<RejectionCode>().Except(outcomes.Keys).Except(TransactionRules.EnvelopeChecks.Take(5));
            Assert.True(outcomes.Count >= 38, $"only {outcomes.Count} distinct outcomes; never: {string.Join(", ", missing)}");
        }
    }

    /// <summary>The replay command of a seed, as one line.</summary>
    internal static string Replay(int seed, int steps)
        => $"Replay: SMARTCITY_MODEL_SEED={seed} SMARTCITY_MODEL_STEPS={steps} dotnet test tests/SmartCity.Ledger.Tests --filter \"FullyQualifiedName~ModelBasedTests\"";

    private static string Disagreement(int seed, int step, string line, RejectionCode expected, Transition actual, ITransactionBody body, IEnumerable<string> recent)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"The engine and the model of docs/domain.md disagree at step {step} of seed {seed}:");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {line}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  engine: {actual}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  model:  {(expected == RejectionCode.None ? "accepted" : expected.ToString())}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  body:   {body}");
        text.AppendLine("  the steps before it:");
        foreach (var previous in recent)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    {previous}");
        }

        text.Append(Replay(seed, step + 1));
        return text.ToString();
    }

    private static void Remember(Queue<string> recent, string line)
    {
        recent.Enqueue(line);
        if (recent.Count > 12)
        {
            recent.Dequeue();
        }
    }

    /// <summary>What the catalogue says a transaction touched is there after it (the node projects those rows).</summary>
    private static void AssertTouchedObjectsExist(TestLedger ledger, ITransactionBody body, int seed, int step)
    {
        foreach (var touched in TransactionRules.Touched(body, ledger.State))
        {
            var key = touched.Object == StateObject.Licence ? StateKeys.Licence(touched.Identifier) : StateKeys.Of(touched.Object, touched.Id);
            Assert.True(ledger.State.Get(key) is not null, $"{body.Kind} touched {key.Text}, which is not in state. {Replay(seed, step + 1)}");
        }
    }

    /// <summary>The first object on which the model and the engine's state differ, or null.</summary>
    private static string? StateDifference(LedgerModel model, TestLedger ledger, CryptoSuiteId suite)
    {
        foreach (var party in AdversarialTransactions.Parties)
        {
            var member = ledger.Read(StateKeys.Member(party.AddressIn(suite)), MemberState.Read);
            var expected = model.Members.GetValueOrDefault(party.AddressIn(suite));
            if ((member is null) != (expected is null) || (member is not null && (member.Uscc, member.Region, member.Roles) != (expected!.Uscc, expected.Region, expected.Roles)))
            {
                return $"member {party.Name}: engine {member}, model {expected}";
            }
        }

        if (ledger.Read(StateKeys.MemberCount, CounterState.Read)!.Value != (ulong)model.Members.Count)
        {
            return "member count";
        }

        var validators = ledger.Read(StateKeys.ValidatorSet, ValidatorSetState.Read)!.Addresses;
        if (!validators.Order().SequenceEqual(model.Validators.Select(v => v.ToString().ToLowerInvariant()).Order()))
        {
            return $"validator set: engine {string.Join(",", validators)}";
        }

        foreach (var (id, r) in model.Records)
        {
            var state = ledger.Read(StateKeys.Record(id), CreditRecordState.Read)!;
            if ((state.Status, state.Severity, state.OpenObjection) != (r.Status, r.Severity, r.OpenObjection ?? default))
            {
                return $"record {id}: engine {state.Status}/{state.Severity}/{state.OpenObjection}, model {r.Status}/{r.Severity}/{r.OpenObjection}";
            }
        }

        foreach (var (id, o) in model.Objections)
        {
            if (ledger.Read(StateKeys.Objection(id), ObjectionState.Read)!.IsOpen != o.Open)
            {
                return $"objection {id}: open in the model: {o.Open}";
            }
        }

        foreach (var (id, l) in model.Licences)
        {
            var state = ledger.Read(StateKeys.Licence(id), LicenceState.Read)!;
            if ((state.Status, state.Issuer, state.ValidTo) != (l.Status, l.Issuer, l.ValidTo))
            {
                return $"licence {id}: engine {state.Status}, model {l.Status}";
            }
        }

        foreach (var (id, e) in model.Entries)
        {
            if (ledger.Read(StateKeys.ListEntry(id), ListEntryState.Read)!.RemovedAt != 0 != e.Removed)
            {
                return $"list entry {id}: removed in the model: {e.Removed}";
            }
        }

        foreach (var (id, p) in model.Proposals)
        {
            var state = ledger.Read(StateKeys.Proposal(id), ProposalState.Read)!;
            if (state.Status != p.Status)
            {
                return $"proposal {id}: engine {state.Status}, model {p.Status}";
            }
        }

        return model.Memoranda.Keys.Concat(model.Feedback).FirstOrDefault(id => ledger.State.Get(StateKeys.Memorandum(id)) is null && ledger.State.Get(StateKeys.Feedback(id)) is null) is var missing && missing != default(Hash256)
            ? $"memorandum or feedback {missing} missing"
            : null;
    }

    private static int? Number(string variable)
        => int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
