using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

public sealed partial class CreditStateMachine
{
    private Verdict IssueLicence(Context context, LicenceIssue tx)
    {
        var verdict = Identifier(context, tx.Identifier, out var identifier);
        if (!verdict.IsOk)
        {
            return verdict;
        }

        verdict = First(
            identifier.Version == 1 ? Verdict.Ok : Verdict.Reject(RejectionCode.LicenceVersionNotNext, "a licence is issued as version 001; later versions come by a change"),
            Fresh(context, StateKeys.Licence(tx.Identifier), "licence"),
            SubjectField(tx.Holder, out _),
            Text(tx.LicenceName, "licenceName"),
            Validity(tx.ValidFrom, tx.ValidTo),
            InSignersRegion(context, tx.AreaCode, out _));
        if (!verdict.IsOk)
        {
            return verdict;
        }

        Put(context.State, StateKeys.Licence(tx.Identifier), new LicenceState(
            tx.Holder, tx.LicenceName, tx.AreaCode, context.Signer, tx.ValidFrom, tx.ValidTo, tx.FileDigest, LicenceStatus.Valid, context.Now, string.Empty, string.Empty));
        return Verdict.Ok;
    }

    /// <summary>
    /// Suspend 01 → 02, resume 02 → 01, revoke 01/02 → 03 or 07, cancel 01/02/05 → 04. A licence past its end date
    /// reads as 05 expired: it can only be cancelled or renewed by a change.
    /// </summary>
    private static Verdict ChangeLicenceStatus(Context context, string identifier, string reason, LicenceStatus target)
    {
        var verdict = IssuersLicence(context, identifier, out var licence);
        if (!verdict.IsOk || !(verdict = Text(reason, "reason")).IsOk)
        {
            return verdict;
        }

        var current = licence.EffectiveStatusAt(context.Now);
        var allowed = (current, target) switch
        {
            (LicenceStatus.Valid, LicenceStatus.Suspended) => true,
            (LicenceStatus.Suspended, LicenceStatus.Valid) => true,
            (LicenceStatus.Valid or LicenceStatus.Suspended, LicenceStatus.Revoked or LicenceStatus.RevokedAsPenalty) => true,
            (LicenceStatus.Valid or LicenceStatus.Suspended or LicenceStatus.Expired, LicenceStatus.Cancelled) => true,
            _ => false,
        };
        if (!allowed)
        {
            return current == LicenceStatus.Expired
                ? Verdict.Reject(RejectionCode.LicenceExpired, $"licence {identifier} expired; it can be cancelled or renewed")
                : Verdict.Reject(RejectionCode.InvalidLicenceTransition, $"licence {identifier} cannot go from {current} to {target}");
        }

        Put(context.State, StateKeys.Licence(identifier), licence with { Status = target, StatusChangedAt = context.Now });
        return Verdict.Ok;
    }

    /// <summary>A change or renewal: version n+1 of the same licence, pointing back; version n becomes 99 (other).</summary>
    private Verdict ChangeLicence(Context context, LicenceChange tx)
    {
        var verdict = IssuersLicence(context, tx.PreviousIdentifier, out var previous);
        if (!verdict.IsOk || !(verdict = Identifier(context, tx.Identifier, out var next)).IsOk)
        {
            return verdict;
        }

        var previousId = LicenceIdentifier.Parse(tx.PreviousIdentifier).Value;
        if (next.Lineage != previousId.Lineage || next.Version != previousId.Version + 1)
        {
            return Verdict.Reject(RejectionCode.LicenceVersionNotNext, $"the new version must be {previousId.NextVersion()}");
        }

        if (previous.EffectiveStatusAt(context.Now) is not (LicenceStatus.Valid or LicenceStatus.Suspended or LicenceStatus.Expired))
        {
            return Verdict.Reject(RejectionCode.InvalidLicenceTransition, $"licence {tx.PreviousIdentifier} is {previous.Status}; it cannot be changed");
        }

        verdict = First(Fresh(context, StateKeys.Licence(tx.Identifier), "licence"), Validity(tx.ValidFrom, tx.ValidTo), Text(tx.Reason, "reason"));
        if (!verdict.IsOk)
        {
            return verdict;
        }

        Put(context.State, StateKeys.Licence(tx.PreviousIdentifier), previous with { Status = LicenceStatus.Other, StatusChangedAt = context.Now, Next = tx.Identifier });
        Put(context.State, StateKeys.Licence(tx.Identifier), previous with
        {
            ValidFrom = tx.ValidFrom,
            ValidTo = tx.ValidTo,
            FileDigest = tx.FileDigest,
            Status = LicenceStatus.Valid,
            StatusChangedAt = context.Now,
            Previous = tx.PreviousIdentifier,
            Next = string.Empty,
        });
        return Verdict.Ok;
    }

    /// <summary>A well-formed GB/T 36904 identifier whose issuer USCC is the signer's own.</summary>
    private static Verdict Identifier(Context context, string text, out LicenceIdentifier identifier)
    {
        var parsed = LicenceIdentifier.Parse(text);
        identifier = parsed.Value;
        if (!parsed.IsValid)
        {
            return Verdict.Reject(RejectionCode.InvalidLicenceIdentifier, $"{parsed.Error}: {parsed.Detail}");
        }

        return identifier.Issuer.Value == context.Member.Uscc
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.LicenceIssuerMismatch, $"the identifier names issuer {identifier.Issuer}; the signer is {context.Member.Uscc}");
    }

    private static Verdict IssuersLicence(Context context, string identifier, out LicenceState licence)
    {
        licence = context.State.Read(StateKeys.Licence(identifier), LicenceState.Read)!;
        if (licence is null)
        {
            return Verdict.Reject(RejectionCode.UnknownLicence, $"no licence {identifier}");
        }

        return licence.Issuer == context.Signer
            ? Verdict.Ok
            : Verdict.Reject(RejectionCode.LicenceIssuerMismatch, $"licence {identifier} was issued by {licence.Issuer}");
    }

    private static Verdict Validity(ulong from, ulong to)
        => from < to ? Verdict.Ok : Verdict.Reject(RejectionCode.InvalidField, "validFrom must be before validTo");
}
