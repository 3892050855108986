using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Tests.Model;

/// <summary>
/// A shadow of the ledger written from docs/domain.md alone (§3 fields and enums, §5 code table, authorization
/// matrix, lifecycle, governance and the decisions), not from the rule code: plain objects, and a prediction that
/// collects every rule a transaction breaks and answers the one that comes first in the code table. The identifier
/// parsers (GB 32100, GB/T 36904, subjects) are the only engine code it uses: they are facts with their own vectors.
/// </summary>
internal sealed class LedgerModel
{
    /// <summary>The code table of docs/domain.md §5, in its order (the envelope first).</summary>
    private static readonly RejectionCode[] TableOrder =
    [
        RejectionCode.TransactionTooLarge, RejectionCode.Malformed, RejectionCode.WrongChainId, RejectionCode.BadSignature, RejectionCode.SignerMismatch,
        RejectionCode.NotAMember, RejectionCode.NonceReused, RejectionCode.NonceGap, RejectionCode.MissingRole, RejectionCode.InvalidField,
        RejectionCode.InvalidSubject, RejectionCode.InvalidLicenceIdentifier, RejectionCode.DivisionOutsideConsortium, RejectionCode.RegionMismatch,
        RejectionCode.DuplicateId, RejectionCode.UnknownRecord, RejectionCode.NotTheDesignator, RejectionCode.RecordNotActive,
        RejectionCode.PublicationPeriodOutOfRange, RejectionCode.NotRepairable, RejectionCode.RepairTooEarly, RejectionCode.UnknownObjection,
        RejectionCode.ObjectionAlreadyOpen, RejectionCode.ObjectionAlreadyResolved, RejectionCode.ObjectionToOwnRecord, RejectionCode.UnknownLicence,
        RejectionCode.LicenceIssuerMismatch, RejectionCode.InvalidLicenceTransition, RejectionCode.LicenceVersionNotNext, RejectionCode.LicenceExpired,
        RejectionCode.UnknownListEntry, RejectionCode.NotTheInitiator, RejectionCode.ListEntryNotActive, RejectionCode.UnknownMemorandum,
        RejectionCode.MemorandumNotInForce, RejectionCode.ListNotCoveredByMemorandum, RejectionCode.RegionNotCoveredByMemorandum,
        RejectionCode.MeasureNotInMemorandum, RejectionCode.UnknownProposal, RejectionCode.ProposalNotOpen, RejectionCode.ProposalExpired,
        RejectionCode.AlreadyVoted, RejectionCode.InvalidProposal,
    ];

    /// <summary>The Role column of the authorization matrix ("—" is None).</summary>
    private static readonly Dictionary<TransactionKind, MemberRole> Roles = new()
    {
        [TransactionKind.CreditRecordSubmit] = MemberRole.CreditDesignator,
        [TransactionKind.CreditRecordAmend] = MemberRole.CreditDesignator,
        [TransactionKind.LicenceIssue] = MemberRole.LicenceIssuer,
        [TransactionKind.LicenceSuspend] = MemberRole.LicenceIssuer,
        [TransactionKind.LicenceResume] = MemberRole.LicenceIssuer,
        [TransactionKind.LicenceChange] = MemberRole.LicenceIssuer,
        [TransactionKind.ListEntryAdd] = MemberRole.ListInitiator,
        [TransactionKind.MemorandumPublish] = MemberRole.MemorandumPublisher,
        [TransactionKind.MeasureFeedback] = MemberRole.MeasureImplementer,
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly GenesisDocument _genesis;

    public LedgerModel(GenesisDocument genesis)
    {
        _genesis = genesis;
        foreach (var m in genesis.Members)
        {
            Members[m.Address] = new Member(m.Uscc.Value, m.Region, m.Roles);
        }

        foreach (var v in genesis.Validators)
        {
            Validators.Add(v.Address);
        }
    }

    public Dictionary<Address, Member> Members { get; } = [];

    public HashSet<Address> Validators { get; } = [];

    public Dictionary<Address, ulong> Nonces { get; } = [];

    public Dictionary<Hash256, Record> Records { get; } = [];

    public Dictionary<Hash256, Objection> Objections { get; } = [];

    public Dictionary<string, Licence> Licences { get; } = new(StringComparer.Ordinal);

    public Dictionary<Hash256, Entry> Entries { get; } = [];

    public Dictionary<Hash256, Memorandum> Memoranda { get; } = [];

    public HashSet<Hash256> Feedback { get; } = [];

    public Dictionary<Hash256, Proposal> Proposals { get; } = [];

    public IReadOnlyList<string> RegionCodes => [.. _genesis.Regions.Select(r => r.Code)];

    public ulong NextNonce(Address signer) => Nonces.GetValueOrDefault(signer);

    /// <summary>The region of a division code: the genesis region with the longest matching prefix (docs §1).</summary>
    public string? RegionOf(string division)
    {
        if (division.Length != 6 || !division.All(char.IsAsciiDigit))
        {
            return null;
        }

        return _genesis.Regions
            .SelectMany(r => r.DivisionPrefixes.Select(p => (Prefix: p, r.Code)))
            .Where(p => division.StartsWith(p.Prefix, StringComparison.Ordinal))
            .OrderByDescending(p => p.Prefix.Length)
            .Select(p => p.Code)
            .FirstOrDefault();
    }

    /// <summary>What the rules answer for this transaction: None (accepted) or the first rule it breaks.</summary>
    public RejectionCode Predict(Address signer, ulong nonce, ITransactionBody body, ulong now)
    {
        if (!Members.TryGetValue(signer, out var member))
        {
            return RejectionCode.NotAMember;
        }

        var next = NextNonce(signer);
        if (nonce != next)
        {
            return nonce < next ? RejectionCode.NonceReused : RejectionCode.NonceGap;
        }

        if (Roles.TryGetValue(body.Kind, out var role) && (member.Roles & role) != role)
        {
            return RejectionCode.MissingRole;
        }

        var broken = new List<RejectionCode>();
        Judge(new Facts(signer, member, now, broken), body);
        return broken.Count == 0 ? RejectionCode.None : broken.MinBy(c => Array.IndexOf(TableOrder, c));
    }

    /// <summary>Applies an accepted transaction to the model (call only when <see cref="Predict"/> said None).</summary>
    public void Apply(Address signer, ITransactionBody body, ulong now)
    {
        Nonces[signer] = NextNonce(signer) + 1;
        switch (body)
        {
            case CreditRecordSubmit b:
                Records[b.RecordId] = new Record(signer, RegionOf(b.DivisionCode)!, b.Category, b.Severity, b.DecidedAt);
                break;
            case CreditRecordAmend b:
                Records[b.RecordId].Severity = b.Severity;
                break;
            case CreditRecordRepair b:
                Records[b.RecordId].Status = RecordStatus.Repaired;
                break;
            case CreditRecordAnnul b:
                Records[b.RecordId].Status = RecordStatus.Annulled;
                break;
            case ObjectionFile b:
                Objections[b.ObjectionId] = new Objection(b.RecordId, signer);
                Records[b.RecordId].OpenObjection = b.ObjectionId;
                break;
            case ObjectionResolve b:
                Objections[b.ObjectionId].Open = false;
                Records[Objections[b.ObjectionId].RecordId].OpenObjection = null;
                break;
            case LicenceIssue b:
                Licences[b.Identifier] = new Licence(signer, RegionOf(b.AreaCode)!, b.ValidTo);
                break;
            case LicenceSuspend b:
                Licences[b.Identifier].Status = LicenceStatus.Suspended;
                break;
            case LicenceResume b:
                Licences[b.Identifier].Status = LicenceStatus.Valid;
                break;
            case LicenceRevoke b:
                Licences[b.Identifier].Status = b.AsPenalty ? LicenceStatus.RevokedAsPenalty : LicenceStatus.Revoked;
                break;
            case LicenceCancel b:
                Licences[b.Identifier].Status = LicenceStatus.Cancelled;
                break;
            case LicenceChange b:
                var previous = Licences[b.PreviousIdentifier];
                Licences[b.Identifier] = new Licence(previous.Issuer, previous.Region, b.ValidTo) { Status = previous.Status };
                previous.Status = LicenceStatus.Other;
                break;
            case ListEntryAdd b:
                Entries[b.EntryId] = new Entry(signer, RegionOf(b.DivisionCode)!, b.Colour, b.ListType, b.EffectiveFrom, b.ExpiresAt);
                break;
            case ListEntryRemove b:
                Entries[b.EntryId].Removed = true;
                break;
            case MemorandumPublish b:
                Memoranda[b.MemorandumId] = new Memorandum(b.Colour, b.ListType, b.Measures, b.Regions, b.EffectiveFrom, b.EffectiveTo);
                break;
            case MeasureFeedback b:
                Feedback.Add(b.FeedbackId);
                break;
            case GovernancePropose b:
                var proposal = new Proposal(b.Action, b.Target, b.Uscc, b.Name, b.Region, b.Roles, now + ((ulong)_genesis.Parameters.ProposalLifetimeDays * 86_400));
                Proposals[b.ProposalId] = proposal;
                Vote(proposal, signer, approve: true);
                break;
            case GovernanceVote b:
                Vote(Proposals[b.ProposalId], signer, b.Approve);
                break;
        }
    }

    private void Vote(Proposal proposal, Address voter, bool approve)
    {
        proposal.Voters[voter] = approve;
        var members = Members.Count;
        var approvals = proposal.Voters.Count(v => v.Value && Members.ContainsKey(v.Key));
        var rejections = proposal.Voters.Count(v => !v.Value && Members.ContainsKey(v.Key));
        if (approve && Passes(approvals, members))
        {
            Execute(proposal);
            proposal.Status = ProposalStatus.Executed;
        }
        else if (!Passes(members - rejections, members))
        {
            proposal.Status = ProposalStatus.Rejected;
        }
    }

    private bool Passes(int approvals, int members)
        => (long)approvals * _genesis.Parameters.Governance.Denominator > (long)members * _genesis.Parameters.Governance.Numerator;

    private void Execute(Proposal p)
    {
        switch (p.Action)
        {
            case GovernanceAction.AddMember:
                Members[p.Target] = new Member(p.Uscc, p.Region, p.Roles);
                break;
            case GovernanceAction.RemoveMember:
                Members.Remove(p.Target);
                break;
            case GovernanceAction.ChangeRoles:
                Members[p.Target] = Members[p.Target] with { Roles = p.Roles };
                break;
            case GovernanceAction.AddValidator:
                Validators.Add(p.Target);
                break;
            case GovernanceAction.RemoveValidator:
                Validators.Remove(p.Target);
                break;
        }
    }

    private void Judge(Facts f, ITransactionBody body)
    {
        switch (body)
        {
            case CreditRecordSubmit b:
                f.If(b.RecordId.IsZero, RejectionCode.InvalidField);
                f.If(!IsText(b.LegalBasis), RejectionCode.InvalidField);
                f.If(!Fits(b.Category, b.Severity, b.Grade), RejectionCode.InvalidField);
                f.If(b.DecidedAt > f.Now, RejectionCode.InvalidField);
                f.If(!Subject.Parse(b.Subject).IsValid, RejectionCode.InvalidSubject);
                NewObjectRegion(f, b.DivisionCode);
                f.If(Records.ContainsKey(b.RecordId), RejectionCode.DuplicateId);
                f.If(Fits(b.Category, b.Severity, b.Grade) && !PeriodFits(b.Category, b.Severity, b.PublicationMonths), RejectionCode.PublicationPeriodOutOfRange);
                break;

            case CreditRecordAmend b:
                {
                    var r = Records.GetValueOrDefault(b.RecordId);
                    f.If(!IsText(b.LegalBasis) || !IsText(b.Reason), RejectionCode.InvalidField);
                    f.If(r is not null && !SeverityFits(r.Category, b.Severity), RejectionCode.InvalidField);
                    OwnRecord(f, r);
                    f.If(r is not null && r.Status != RecordStatus.Active, RejectionCode.RecordNotActive);
                    f.If(r is not null && SeverityFits(r.Category, b.Severity) && !PeriodFits(r.Category, b.Severity, b.PublicationMonths), RejectionCode.PublicationPeriodOutOfRange);
                    break;
                }

            case CreditRecordRepair b:
                {
                    var r = Records.GetValueOrDefault(b.RecordId);
                    f.If(!IsText(b.Reason), RejectionCode.InvalidField);
                    OwnRecord(f, r);
                    f.If(r is not null && r.Status != RecordStatus.Active, RejectionCode.RecordNotActive);
                    f.If(r is not null && r.Category != RecordCategory.AdministrativePenalty, RejectionCode.NotRepairable);
                    f.If(r is not null && r.Category == RecordCategory.AdministrativePenalty && f.Now < RepairableFrom(r), RejectionCode.RepairTooEarly);
                    break;
                }

            case CreditRecordAnnul b:
                {
                    var r = Records.GetValueOrDefault(b.RecordId);
                    f.If(!IsText(b.Reason), RejectionCode.InvalidField);
                    OwnRecord(f, r);
                    f.If(r is not null && r.Status != RecordStatus.Active, RejectionCode.RecordNotActive);
                    break;
                }

            case ObjectionFile b:
                {
                    var r = Records.GetValueOrDefault(b.RecordId);
                    f.If(b.ObjectionId.IsZero, RejectionCode.InvalidField);
                    f.If(Objections.ContainsKey(b.ObjectionId), RejectionCode.DuplicateId);
                    f.If(r is null, RejectionCode.UnknownRecord);
                    f.If(r is not null && r.Status != RecordStatus.Active, RejectionCode.RecordNotActive);
                    f.If(r?.OpenObjection is not null, RejectionCode.ObjectionAlreadyOpen);
                    f.If(r is not null && r.Designator == f.Signer, RejectionCode.ObjectionToOwnRecord);
                    break;
                }

            case ObjectionResolve b:
                {
                    var o = Objections.GetValueOrDefault(b.ObjectionId);
                    var r = o is null ? null : Records[o.RecordId];
                    f.If((byte)b.Outcome is < 1 or > 3, RejectionCode.InvalidField);
                    f.If(r is not null && r.Region != f.Member.Region, RejectionCode.RegionMismatch);
                    f.If(r is not null && r.Designator != f.Signer, RejectionCode.NotTheDesignator);
                    f.If(o is null, RejectionCode.UnknownObjection);
                    f.If(o is not null && !o.Open, RejectionCode.ObjectionAlreadyResolved);
                    break;
                }

            case LicenceIssue b:
                {
                    var id = LicenceIdentifier.Parse(b.Identifier);
                    f.If(!IsText(b.LicenceName) || b.ValidFrom >= b.ValidTo, RejectionCode.InvalidField);
                    f.If(!Subject.Parse(b.Holder).IsValid, RejectionCode.InvalidSubject);
                    f.If(!id.IsValid, RejectionCode.InvalidLicenceIdentifier);
                    NewObjectRegion(f, b.AreaCode);
                    f.If(Licences.ContainsKey(b.Identifier), RejectionCode.DuplicateId);
                    f.If(id.IsValid && id.Value.Issuer.Value != f.Member.Uscc, RejectionCode.LicenceIssuerMismatch);
                    f.If(id.IsValid && id.Value.Version != 1, RejectionCode.LicenceVersionNotNext);
                    break;
                }

            case LicenceSuspend b:
                LicenceStatusChange(f, b.Identifier, b.Reason, [LicenceStatus.Valid], refusedWhenExpired: true);
                break;
            case LicenceResume b:
                LicenceStatusChange(f, b.Identifier, b.Reason, [LicenceStatus.Suspended], refusedWhenExpired: true);
                break;
            case LicenceRevoke b:
                LicenceStatusChange(f, b.Identifier, b.Reason, [LicenceStatus.Valid, LicenceStatus.Suspended], refusedWhenExpired: true);
                break;
            case LicenceCancel b:
                LicenceStatusChange(f, b.Identifier, b.Reason, [LicenceStatus.Valid, LicenceStatus.Suspended], refusedWhenExpired: false);
                break;

            case LicenceChange b:
                {
                    var l = Licences.GetValueOrDefault(b.PreviousIdentifier);
                    var previous = LicenceIdentifier.Parse(b.PreviousIdentifier);
                    var next = LicenceIdentifier.Parse(b.Identifier);
                    f.If(b.ValidFrom >= b.ValidTo || !IsText(b.Reason), RejectionCode.InvalidField);
                    f.If(!previous.IsValid || !next.IsValid, RejectionCode.InvalidLicenceIdentifier);
                    f.If(l is not null && l.Region != f.Member.Region, RejectionCode.RegionMismatch);
                    f.If(Licences.ContainsKey(b.Identifier), RejectionCode.DuplicateId);
                    f.If(l is null, RejectionCode.UnknownLicence);
                    f.If(l is not null && (l.Issuer != f.Signer || (previous.IsValid && previous.Value.Issuer.Value != f.Member.Uscc)), RejectionCode.LicenceIssuerMismatch);
                    f.If(next.IsValid && next.Value.Issuer.Value != f.Member.Uscc, RejectionCode.LicenceIssuerMismatch);
                    f.If(l is not null && l.Status is not (LicenceStatus.Valid or LicenceStatus.Suspended), RejectionCode.InvalidLicenceTransition);
                    f.If(previous.IsValid && next.IsValid && (next.Value.Lineage != previous.Value.Lineage || next.Value.Version != previous.Value.Version + 1), RejectionCode.LicenceVersionNotNext);
                    break;
                }

            case ListEntryAdd b:
                f.If(b.EntryId.IsZero || (byte)b.Colour is < 1 or > 2 || !IsText(b.ListType) || !IsText(b.LegalBasis), RejectionCode.InvalidField);
                f.If(b.ExpiresAt != 0 && b.ExpiresAt <= b.EffectiveFrom, RejectionCode.InvalidField);
                f.If(!Subject.Parse(b.Subject).IsValid, RejectionCode.InvalidSubject);
                NewObjectRegion(f, b.DivisionCode);
                f.If(Entries.ContainsKey(b.EntryId), RejectionCode.DuplicateId);
                break;

            case ListEntryRemove b:
                {
                    var e = Entries.GetValueOrDefault(b.EntryId);
                    f.If(!IsText(b.Reason), RejectionCode.InvalidField);
                    f.If(e is not null && e.Region != f.Member.Region, RejectionCode.RegionMismatch);
                    f.If(e is null, RejectionCode.UnknownListEntry);
                    f.If(e is not null && e.Initiator != f.Signer, RejectionCode.NotTheInitiator);
                    f.If(e is not null && (e.Removed || (e.ExpiresAt != 0 && f.Now >= e.ExpiresAt)), RejectionCode.ListEntryNotActive);
                    break;
                }

            case MemorandumPublish b:
                f.If(b.MemorandumId.IsZero || !IsText(b.Title) || (byte)b.Colour is < 1 or > 2 || !IsText(b.ListType), RejectionCode.InvalidField);
                f.If(b.Measures.Count == 0 || !b.Measures.All(IsText) || b.Measures.Distinct().Count() != b.Measures.Count, RejectionCode.InvalidField);
                f.If(b.Regions.Count == 0 || !b.Regions.All(RegionCodes.Contains) || b.Regions.Distinct().Count() != b.Regions.Count, RejectionCode.InvalidField);
                f.If(b.EffectiveTo != 0 && b.EffectiveTo <= b.EffectiveFrom, RejectionCode.InvalidField);
                f.If(!b.Regions.Contains(f.Member.Region), RejectionCode.RegionMismatch);
                f.If(Memoranda.ContainsKey(b.MemorandumId), RejectionCode.DuplicateId);
                break;

            case MeasureFeedback b:
                {
                    var e = Entries.GetValueOrDefault(b.EntryId);
                    var m = Memoranda.GetValueOrDefault(b.MemorandumId);
                    f.If(b.FeedbackId.IsZero || (byte)b.Outcome is < 1 or > 3 || b.AppliedAt > f.Now, RejectionCode.InvalidField);
                    f.If(Feedback.Contains(b.FeedbackId), RejectionCode.DuplicateId);
                    f.If(e is null, RejectionCode.UnknownListEntry);
                    f.If(e is not null && !e.IsActiveAt(f.Now) && b.Outcome != FeedbackOutcome.Lifted, RejectionCode.ListEntryNotActive);
                    f.If(m is null, RejectionCode.UnknownMemorandum);
                    f.If(m is not null && !(f.Now >= m.From && (m.To == 0 || f.Now < m.To)), RejectionCode.MemorandumNotInForce);
                    f.If(e is not null && m is not null && (e.Colour != m.Colour || e.ListType != m.ListType), RejectionCode.ListNotCoveredByMemorandum);
                    f.If(e is not null && m is not null && (!m.Regions.Contains(e.Region) || !m.Regions.Contains(f.Member.Region)), RejectionCode.RegionNotCoveredByMemorandum);
                    f.If(m is not null && !m.Measures.Contains(b.Measure), RejectionCode.MeasureNotInMemorandum);
                    break;
                }

            case GovernancePropose b:
                f.If(b.ProposalId.IsZero, RejectionCode.InvalidField);
                f.If(Proposals.ContainsKey(b.ProposalId), RejectionCode.DuplicateId);
                f.If(!CanApply(b.Action, b.Target, b.Uscc, b.Name, b.Region, b.Roles), RejectionCode.InvalidProposal);
                break;

            case GovernanceVote b:
                {
                    var p = Proposals.GetValueOrDefault(b.ProposalId);
                    f.If(p is null, RejectionCode.UnknownProposal);
                    f.If(p is not null && p.Status != ProposalStatus.Open, RejectionCode.ProposalNotOpen);
                    f.If(p is not null && f.Now >= p.ExpiresAt, RejectionCode.ProposalExpired);
                    f.If(p is not null && p.Voters.ContainsKey(f.Signer), RejectionCode.AlreadyVoted);
                    var approvalsAfter = p is null ? 0 : p.Voters.Count(v => v.Value && Members.ContainsKey(v.Key)) + 1;
                    f.If(p is not null && b.Approve && Passes(approvalsAfter, Members.Count) && !CanApply(p.Action, p.Target, p.Uscc, p.Name, p.Region, p.Roles), RejectionCode.InvalidProposal);
                    break;
                }

            default:
                throw new InvalidOperationException($"the model has no rules for {body.Kind}");
        }
    }

    /// <summary>Suspend, resume, revoke, cancel: the licence lifecycle table of docs §5.</summary>
    private void LicenceStatusChange(Facts f, string identifier, string reason, LicenceStatus[] from, bool refusedWhenExpired)
    {
        var l = Licences.GetValueOrDefault(identifier);
        var id = LicenceIdentifier.Parse(identifier);
        f.If(!IsText(reason), RejectionCode.InvalidField);
        f.If(!id.IsValid, RejectionCode.InvalidLicenceIdentifier);
        f.If(l is not null && l.Region != f.Member.Region, RejectionCode.RegionMismatch);
        f.If(l is null, RejectionCode.UnknownLicence);
        f.If(l is not null && (l.Issuer != f.Signer || (id.IsValid && id.Value.Issuer.Value != f.Member.Uscc)), RejectionCode.LicenceIssuerMismatch);
        f.If(l is not null && !from.Contains(l.Status), RejectionCode.InvalidLicenceTransition);
        f.If(l is not null && refusedWhenExpired && f.Now >= l.ValidTo, RejectionCode.LicenceExpired);
    }

    /// <summary>Amend, repair, annul: the record's region is the signer's, it exists, and the signer designated it.</summary>
    private static void OwnRecord(Facts f, Record? r)
    {
        f.If(r is not null && r.Region != f.Member.Region, RejectionCode.RegionMismatch);
        f.If(r is null, RejectionCode.UnknownRecord);
        f.If(r is not null && r.Designator != f.Signer, RejectionCode.NotTheDesignator);
    }

    private void NewObjectRegion(Facts f, string division)
    {
        var region = RegionOf(division);
        f.If(region is null, RejectionCode.DivisionOutsideConsortium);
        f.If(region is not null && region != f.Member.Region, RejectionCode.RegionMismatch);
    }

    private bool CanApply(GovernanceAction action, Address target, string uscc, string name, string region, MemberRole roles)
    {
        var rolesOk = roles != MemberRole.None && ((uint)roles & ~255u) == 0;
        var regionOk = RegionCodes.Contains(region);
        return !target.IsZero && action switch
        {
            GovernanceAction.AddMember => !Members.ContainsKey(target) && UnifiedSocialCreditCode.Parse(uscc).IsValid
                && !Members.Values.Any(m => m.Uscc == uscc) && IsText(name) && regionOk && rolesOk,
            GovernanceAction.RemoveMember => Members.ContainsKey(target) && Members.Count > 1,
            GovernanceAction.ChangeRoles => Members.ContainsKey(target) && rolesOk,
            // A change may not leave 2 or 3 validators (consensus needs 1 or at least 4).
            GovernanceAction.AddValidator => !Validators.Contains(target) && IsText(name) && regionOk && Validators.Count + 1 is not (2 or 3),
            GovernanceAction.RemoveValidator => Validators.Contains(target) && Validators.Count > 1 && Validators.Count - 1 is not (2 or 3),
            _ => false,
        };
    }

    /// <summary>§3: categories 1-4; severity exactly 0 except for penalties (1-3); only a tax grade has a grade, A/B/M/C/D.</summary>
    private static bool Fits(RecordCategory category, Severity severity, string grade)
        => SeverityFits(category, severity) && (category == RecordCategory.TaxGrade ? grade is "A" or "B" or "M" or "C" or "D" : grade.Length == 0);

    private static bool SeverityFits(RecordCategory category, Severity severity) => (byte)category switch
    {
        1 => (byte)severity is >= 1 and <= 3,
        2 or 3 or 4 => (byte)severity == 0,
        _ => false,
    };

    private bool PeriodFits(RecordCategory category, Severity severity, uint months)
    {
        var (min, max) = category switch
        {
            RecordCategory.AdministrativePenalty => (Publication(severity).MinMonths, Publication(severity).MaxMonths),
            RecordCategory.CourtDefaulter => (24, 60),
            _ => (1, 36),
        };
        return months >= min && months <= max;
    }

    private PublicationRule Publication(Severity severity) => severity switch
    {
        Severity.Minor => _genesis.Parameters.Minor,
        Severity.Moderate => _genesis.Parameters.Moderate,
        _ => _genesis.Parameters.Serious,
    };

    private ulong RepairableFrom(Record r)
        => (ulong)DateTimeOffset.FromUnixTimeSeconds((long)r.DecidedAt).AddMonths(Publication(r.Severity).RepairAfterMonths).ToUnixTimeSeconds();

    /// <summary>§3: 1 to 512 characters counted as Unicode scalar values, well-formed.</summary>
    private static bool IsText(string text)
    {
        try
        {
            _ = StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException)
        {
            return false;
        }

        return text.EnumerateRunes().Count() is >= 1 and <= 512;
    }

    private sealed record Facts(Address Signer, Member Member, ulong Now, List<RejectionCode> Broken)
    {
        public void If(bool broken, RejectionCode code)
        {
            if (broken)
            {
                Broken.Add(code);
            }
        }
    }

    internal sealed record Member(string Uscc, string Region, MemberRole Roles);

    internal sealed class Record(Address designator, string region, RecordCategory category, Severity severity, ulong decidedAt)
    {
        public Address Designator { get; } = designator;

        public string Region { get; } = region;

        public RecordCategory Category { get; } = category;

        public Severity Severity { get; set; } = severity;

        public ulong DecidedAt { get; } = decidedAt;

        public RecordStatus Status { get; set; } = RecordStatus.Active;

        public Hash256? OpenObjection { get; set; }
    }

    internal sealed class Objection(Hash256 recordId, Address filedBy)
    {
        public Hash256 RecordId { get; } = recordId;

        public Address FiledBy { get; } = filedBy;

        public bool Open { get; set; } = true;
    }

    internal sealed class Licence(Address issuer, string region, ulong validTo)
    {
        public Address Issuer { get; } = issuer;

        public string Region { get; } = region;

        public ulong ValidTo { get; } = validTo;

        public LicenceStatus Status { get; set; } = LicenceStatus.Valid;
    }

    internal sealed class Entry(Address initiator, string region, ListColour colour, string listType, ulong effectiveFrom, ulong expiresAt)
    {
        public Address Initiator { get; } = initiator;

        public string Region { get; } = region;

        public ListColour Colour { get; } = colour;

        public string ListType { get; } = listType;

        public ulong EffectiveFrom { get; } = effectiveFrom;

        public ulong ExpiresAt { get; } = expiresAt;

        public bool Removed { get; set; }

        public bool IsActiveAt(ulong now) => !Removed && now >= EffectiveFrom && (ExpiresAt == 0 || now < ExpiresAt);
    }

    internal sealed record Memorandum(ListColour Colour, string ListType, IReadOnlyList<string> Measures, IReadOnlyList<string> Regions, ulong From, ulong To);

    internal sealed class Proposal(GovernanceAction action, Address target, string uscc, string name, string region, MemberRole roles, ulong expiresAt)
    {
        public GovernanceAction Action { get; } = action;

        public Address Target { get; } = target;

        public string Uscc { get; } = uscc;

        public string Name { get; } = name;

        public string Region { get; } = region;

        public MemberRole Roles { get; } = roles;

        public ulong ExpiresAt { get; } = expiresAt;

        public Dictionary<Address, bool> Voters { get; } = [];

        public ProposalStatus Status { get; set; } = ProposalStatus.Open;
    }
}
