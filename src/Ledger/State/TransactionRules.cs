using System.Collections.Frozen;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

/// <summary>The objects of the ledger state that transactions create and act on.</summary>
public enum StateObject
{
    None = 0,
    Record,
    Objection,
    Licence,
    ListEntry,
    Memorandum,
    Feedback,
    Proposal,
}

/// <summary>Who may act on the object a transaction names, besides holding the role of the kind.</summary>
public enum OwnerRule
{
    /// <summary>Nobody owns what the transaction names (it creates an object, or governance).</summary>
    None = 0,

    /// <summary>The member that designated the record (谁认定谁修复); objection answers: the designator of its record.</summary>
    RecordDesignator,

    /// <summary>Any member but the record's designator (a designator does not object to its own record).</summary>
    NotRecordDesignator,

    /// <summary>The member that issued the licence, and the identifier's issuer segment is the signer's own USCC.</summary>
    LicenceIssuer,

    /// <summary>The identifier's issuer segment is the signer's own USCC (a new licence).</summary>
    IdentifierIssuer,

    /// <summary>The member that initiated the list entry.</summary>
    ListEntryInitiator,
}

/// <summary>Where a member may act: always for its own region (its region at the time of the transaction).</summary>
public enum RegionRule
{
    None = 0,

    /// <summary>The division or area code of the new object lies in the consortium and in the signer's region.</summary>
    DivisionInSignersRegion,

    /// <summary>The object acted on (a record, an objection's record, a licence, a list entry) is in the signer's region.</summary>
    TargetInSignersRegion,

    /// <summary>The memorandum's regions include the publisher's region.</summary>
    MemorandumCoversSigner,

    /// <summary>The memorandum covers both the entry's region and the implementer's (cross-region mutual recognition).</summary>
    MemorandumCoversEntryAndSigner,
}

/// <summary>
/// One row of the authorization matrix: what a kind needs (role, owner, region), what it creates and acts on, and
/// the checks it runs after the envelope, in their order. Data: the engine, docs/domain.md and the tests read it.
/// </summary>
public sealed record KindRule(
    TransactionKind Kind,
    MemberRole Role,
    IReadOnlyList<StateObject> Creates,
    IReadOnlyList<StateObject> ActsOn,
    OwnerRule Owner,
    RegionRule Region,
    IReadOnlyList<RejectionCode> Checks,
    string Effect)
{
    /// <summary>The EIP-712 members of the kind (nonce first), from the transaction's one field list.</summary>
    public IReadOnlyList<(string Name, string Type)> Schema => TransactionCatalogue.Members(Kind);
}

/// <summary>A licence status change as data: from which recorded statuses a kind moves a licence, and to what.</summary>
public sealed record LicenceTransition(TransactionKind Kind, IReadOnlyList<LicenceStatus> From, IReadOnlyList<LicenceStatus> To, bool RefusedWhenExpired);

/// <summary>An object a committed transaction created or changed, for the query projections.</summary>
public readonly record struct TouchedObject(StateObject Object, Hash256 Id, string Identifier)
{
    public static TouchedObject Of(StateObject obj, Hash256 id) => new(obj, id, string.Empty);

    public static TouchedObject Licence(string identifier) => new(StateObject.Licence, default, identifier);
}

/// <summary>
/// The catalogue of transaction kinds: kind → EIP-712 schema, required role, ownership rule, region rule, checks in
/// order, effect and the objects it touches. The state machine runs it, docs/domain.md prints it (a test compares)
/// and the node's projector asks it what a transaction touched. The only other per-kind table is the codec's
/// kind → field reader map (<see cref="TransactionCatalogue"/>, below the state layer), from which the schema comes.
/// </summary>
public static class TransactionRules
{
    /// <summary>
    /// The text limit: 1 to 512 characters, counted as Unicode scalar values (what JavaScript's <c>[...s].length</c>,
    /// Python's <c>len</c> and Rust's <c>chars().count()</c> give), in well-formed Unicode.
    /// </summary>
    public const int MaxTextLength = 512;

    private static readonly FrozenDictionary<TransactionKind, IKindRules> Rules = CreditStateMachine.Catalogue()
        .ToFrozenDictionary(r => r.Rule.Kind);

    /// <summary>The checks every transaction passes first, in order, before those of its kind.</summary>
    public static IReadOnlyList<RejectionCode> EnvelopeChecks { get; } =
    [
        RejectionCode.TransactionTooLarge, RejectionCode.Malformed, RejectionCode.WrongChainId, RejectionCode.BadSignature,
        RejectionCode.SignerMismatch, RejectionCode.NotAMember, RejectionCode.NonceReused, RejectionCode.NonceGap, RejectionCode.MissingRole,
    ];

    public static IReadOnlyList<KindRule> All { get; } = [.. Rules.Values.Select(r => r.Rule).OrderBy(r => r.Kind)];

    /// <summary>The licence lifecycle; a status not named as a target (06 transferred out) is reached by no transaction.</summary>
    public static IReadOnlyList<LicenceTransition> LicenceLifecycle => CreditStateMachine.LicenceLifecycle;

    public static KindRule For(TransactionKind kind) => Rules[kind].Rule;

    /// <summary>The role a kind needs (None: open to every member, or to the owner alone).</summary>
    public static MemberRole RequiredRole(TransactionKind kind) => Rules[kind].Rule.Role;

    /// <summary>The records, licences, list entries, memoranda and feedback a committed transaction created or changed.</summary>
    public static IReadOnlyList<TouchedObject> Touched(ITransactionBody body, IStateReader after)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Rules[body.Kind].Touched(body, after);
    }

    internal static Verdict Apply(RuleContext context, ITransactionBody body) => Rules[body.Kind].Apply(context, body);
}

/// <summary>What the checks of one transaction read: who signs, when, the state, and the objects the transaction names.</summary>
internal sealed class RuleContext(StateOverlay state, Address signer, MemberState member, ulong now, CreditStateMachine machine)
{
    public StateOverlay State { get; } = state;

    public Address Signer { get; } = signer;

    public MemberState Member { get; } = member;

    public ulong Now { get; } = now;

    public CreditStateMachine Machine { get; } = machine;

    /// <summary>The object the transaction acts on first; its region is the one the region rule compares.</summary>
    public StateObject Target { get; set; }

    public Hash256 RecordId { get; set; }

    public CreditRecordState? Record { get; set; }

    public ObjectionState? Objection { get; set; }

    public string LicenceId { get; set; } = string.Empty;

    public LicenceState? Licence { get; set; }

    public ListEntryState? Entry { get; set; }

    public MemorandumState? Memorandum { get; set; }

    public ProposalState? Proposal { get; set; }

    public string TargetName => Target switch
    {
        StateObject.Record => $"record {RecordId}",
        StateObject.Objection => $"the objection's record {RecordId}",
        StateObject.Licence => $"licence {LicenceId}",
        _ => $"the {Target}",
    };

    /// <summary>The target's region, or null while the target does not exist.</summary>
    public string? TargetRegion => Target switch
    {
        StateObject.Record or StateObject.Objection => Record?.Region,
        StateObject.Licence => Licence is null ? null : Machine.Regions.RegionOf(Licence.AreaCode)?.Code ?? string.Empty,
        StateObject.ListEntry => Entry?.Region,
        _ => null,
    };
}

internal interface IKindRules
{
    KindRule Rule { get; }

    Verdict Apply(RuleContext context, ITransactionBody body);

    IReadOnlyList<TouchedObject> Touched(ITransactionBody body, IStateReader after);
}

/// <summary>
/// The rules of one kind, built from declarations: what it creates and acts on (DuplicateId and Unknown… checks),
/// its owner and region rules, and its own checks. All checks run sorted by rejection code, the order of the code
/// table in docs/domain.md; a check about an object that does not exist passes (the Unknown… check answers).
/// </summary>
internal sealed class KindRules<TBody>(TransactionKind kind, MemberRole role, string effect) : IKindRules
    where TBody : ITransactionBody
{
    private readonly List<(RejectionCode Code, Func<RuleContext, TBody, Verdict> Run)> _checks = [];
    private readonly List<Action<RuleContext, TBody>> _loads = [];
    private readonly List<StateObject> _creates = [];
    private readonly List<StateObject> _actsOn = [];
    private OwnerRule _owner;
    private RegionRule _region;
    private Action<RuleContext, TBody> _effect = (_, _) => { };
    private Func<TBody, IStateReader, IEnumerable<TouchedObject>> _touches = (_, _) => [];
    private (RejectionCode Code, Func<RuleContext, TBody, Verdict> Run)[] _ordered = [];
    private KindRule? _rule;

    public KindRule Rule => _rule ?? throw new InvalidOperationException($"the rules of {kind} are not built");

    /// <summary>Creates an object under a 32-byte id: the id is not all zero (InvalidField) and not used (DuplicateId).</summary>
    public KindRules<TBody> Creates(StateObject obj, string name, Func<TBody, Hash256> id)
    {
        _creates.Add(obj);
        Check(RejectionCode.InvalidField, (_, b) => id(b).IsZero ? Verdict.Reject(RejectionCode.InvalidField, $"{name} must not be all zero") : Verdict.Ok);
        Check(RejectionCode.DuplicateId, (c, b) => Fresh(c, StateKeys.Of(obj, id(b))));
        return this;
    }

    /// <summary>Creates a licence under its identifier, which must not be used (DuplicateId).</summary>
    public KindRules<TBody> CreatesLicence(Func<TBody, string> identifier)
    {
        _creates.Add(StateObject.Licence);
        Check(RejectionCode.DuplicateId, (c, b) => Fresh(c, StateKeys.Licence(identifier(b))));
        return this;
    }

    /// <summary>Acts on an existing object (the first one named is the target of the owner and region rules).</summary>
    public KindRules<TBody> ActsOn(StateObject obj, Func<TBody, Hash256> id)
    {
        var isTarget = _actsOn.Count == 0;
        _actsOn.Add(obj);
        _loads.Add((c, b) =>
        {
            var key = id(b);
            if (isTarget)
            {
                c.Target = obj;
            }

            switch (obj)
            {
                case StateObject.Record:
                    c.RecordId = key;
                    c.Record = c.State.Read(StateKeys.Record(key), CreditRecordState.Read);
                    break;
                case StateObject.Objection:
                    c.Objection = c.State.Read(StateKeys.Objection(key), ObjectionState.Read);
                    if (c.Objection is not null)
                    {
                        c.RecordId = c.Objection.RecordId;
                        c.Record = c.State.Read(StateKeys.Record(c.Objection.RecordId), CreditRecordState.Read);
                    }

                    break;
                case StateObject.ListEntry:
                    c.Entry = c.State.Read(StateKeys.ListEntry(key), ListEntryState.Read);
                    break;
                case StateObject.Memorandum:
                    c.Memorandum = c.State.Read(StateKeys.Memorandum(key), MemorandumState.Read);
                    break;
                case StateObject.Proposal:
                    c.Proposal = c.State.Read(StateKeys.Proposal(key), ProposalState.Read);
                    break;
                default:
                    throw new InvalidOperationException($"{kind} cannot act on a {obj} by id");
            }
        });
        var (code, what) = obj switch
        {
            StateObject.Record => (RejectionCode.UnknownRecord, "record"),
            StateObject.Objection => (RejectionCode.UnknownObjection, "objection"),
            StateObject.ListEntry => (RejectionCode.UnknownListEntry, "list entry"),
            StateObject.Memorandum => (RejectionCode.UnknownMemorandum, "memorandum"),
            _ => (RejectionCode.UnknownProposal, "proposal"),
        };
        Check(code, (c, b) => Loaded(c, obj) ? Verdict.Ok : Verdict.Reject(code, $"no {what} {id(b)}"));
        return this;
    }

    /// <summary>Acts on an existing licence version (the target of the owner and region rules).</summary>
    public KindRules<TBody> ActsOnLicence(Func<TBody, string> identifier)
    {
        _actsOn.Add(StateObject.Licence);
        _loads.Add((c, b) =>
        {
            c.Target = StateObject.Licence;
            c.LicenceId = identifier(b);
            c.Licence = c.State.Read(StateKeys.Licence(c.LicenceId), LicenceState.Read);
        });
        Check(RejectionCode.UnknownLicence, (c, b) => c.Licence is not null ? Verdict.Ok : Verdict.Reject(RejectionCode.UnknownLicence, $"no licence {identifier(b)}"));
        return this;
    }

    public KindRules<TBody> OwnedBy(OwnerRule owner)
    {
        _owner = owner;
        switch (owner)
        {
            case OwnerRule.RecordDesignator:
                Check(RejectionCode.NotTheDesignator, (c, _) => c.Record is null || c.Record.Designator == c.Signer
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.NotTheDesignator, $"only the designator {c.Record.Designator} acts on record {c.RecordId}"));
                break;
            case OwnerRule.NotRecordDesignator:
                Check(RejectionCode.ObjectionToOwnRecord, (c, _) => c.Record is null || c.Record.Designator != c.Signer
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.ObjectionToOwnRecord, $"{c.Signer} designated record {c.RecordId}; it corrects it by amend or annul, not by objection"));
                break;
            case OwnerRule.LicenceIssuer:
                Check(RejectionCode.LicenceIssuerMismatch, (c, _) => c.Licence is null
                    ? Verdict.Ok
                    : c.Licence.Issuer != c.Signer
                        ? Verdict.Reject(RejectionCode.LicenceIssuerMismatch, $"licence {c.LicenceId} was issued by {c.Licence.Issuer}")
                        : CreditStateMachine.NamesSignerAsIssuer(c, c.LicenceId));
                break;
            case OwnerRule.ListEntryInitiator:
                Check(RejectionCode.NotTheInitiator, (c, _) => c.Entry is null || c.Entry.Initiator == c.Signer
                    ? Verdict.Ok
                    : Verdict.Reject(RejectionCode.NotTheInitiator, $"only the initiator {c.Entry.Initiator} acts on its entry"));
                break;
            case OwnerRule.IdentifierIssuer:
                break; // the kind names the identifier in its own check
            default:
                throw new InvalidOperationException($"{kind}: owner rule {owner} needs a target");
        }

        return this;
    }

    /// <summary>The new object's division or area code lies in the consortium and in the signer's region.</summary>
    public KindRules<TBody> InSignersRegion(Func<TBody, string> divisionCode)
    {
        _region = RegionRule.DivisionInSignersRegion;
        Check(RejectionCode.DivisionOutsideConsortium, (c, b) => c.Machine.Regions.RegionOf(divisionCode(b)) is not null
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.DivisionOutsideConsortium, $"division code '{divisionCode(b)}' is not in any region of the consortium"));
        Check(RejectionCode.RegionMismatch, (c, b) => c.Machine.Regions.RegionOf(divisionCode(b))?.Code is not { } region || region == c.Member.Region
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.RegionMismatch, $"division {divisionCode(b)} is in {region}; the signer acts for {c.Member.Region}"));
        return this;
    }

    /// <summary>The object acted on lies in the signer's current region.</summary>
    public KindRules<TBody> TargetInSignersRegion()
    {
        _region = RegionRule.TargetInSignersRegion;
        Check(RejectionCode.RegionMismatch, (c, _) => c.TargetRegion is not { } region || region == c.Member.Region
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.RegionMismatch, $"{c.TargetName} is in {region}; the signer acts for {c.Member.Region}"));
        return this;
    }

    /// <summary>A region rule the kind checks itself (memoranda), under the given code.</summary>
    public KindRules<TBody> Region(RegionRule rule, RejectionCode code, Func<RuleContext, TBody, Verdict> check)
    {
        _region = rule;
        return Check(code, check);
    }

    /// <summary>A check of the kind: it returns Ok or a rejection with exactly <paramref name="code"/>.</summary>
    public KindRules<TBody> Check(RejectionCode code, Func<RuleContext, TBody, Verdict> check)
    {
        _checks.Add((code, check));
        return this;
    }

    public KindRules<TBody> Effect(Action<RuleContext, TBody> effect)
    {
        _effect = effect;
        return this;
    }

    public KindRules<TBody> Touches(Func<TBody, IStateReader, IEnumerable<TouchedObject>> touches)
    {
        _touches = touches;
        return this;
    }

    public IKindRules Build()
    {
        _ordered = [.. _checks.OrderBy(c => c.Code)]; // stable: checks of one code keep their declared order
        _rule = new KindRule(kind, role, [.. _creates], [.. _actsOn], _owner, _region, [.. _ordered.Select(c => c.Code).Distinct()], effect);
        return this;
    }

    public Verdict Apply(RuleContext context, ITransactionBody body)
    {
        var typed = (TBody)body;
        foreach (var load in _loads)
        {
            load(context, typed);
        }

        foreach (var (code, run) in _ordered)
        {
            var verdict = run(context, typed);
            if (!verdict.IsOk)
            {
                return verdict.Code == code ? verdict : throw new InvalidOperationException($"a {code} check of {kind} answered {verdict.Code}");
            }
        }

        _effect(context, typed);
        return Verdict.Ok;
    }

    public IReadOnlyList<TouchedObject> Touched(ITransactionBody body, IStateReader after) => [.. _touches((TBody)body, after)];

    private static bool Loaded(RuleContext c, StateObject obj) => obj switch
    {
        StateObject.Record => c.Record is not null,
        StateObject.Objection => c.Objection is not null,
        StateObject.ListEntry => c.Entry is not null,
        StateObject.Memorandum => c.Memorandum is not null,
        _ => c.Proposal is not null,
    };

    private static Verdict Fresh(RuleContext c, StateKey key)
        => c.State.Get(key) is null ? Verdict.Ok : Verdict.Reject(RejectionCode.DuplicateId, $"{key.Text} already exists");
}
