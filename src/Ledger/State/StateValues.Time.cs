namespace SmartCity.Ledger.State;

/// <summary>Calendar arithmetic on Unix seconds in UTC: the same answer on every node.</summary>
public static class LedgerTime
{
    public static ulong AddMonths(ulong unixSeconds, int months)
        => (ulong)DateTimeOffset.FromUnixTimeSeconds((long)unixSeconds).AddMonths(months).ToUnixTimeSeconds();

    public static ulong AddDays(ulong unixSeconds, int days) => unixSeconds + ((ulong)days * 86_400);

    public static ulong ToUnixSeconds(DateTimeOffset time) => (ulong)Math.Max(0, time.ToUnixTimeSeconds());
}

public sealed partial record CreditRecordState
{
    /// <summary>When the publication period ends: decision date + the period in calendar months.</summary>
    public ulong PublicationEndsAt => LedgerTime.AddMonths(DecidedAt, (int)PublicationMonths);

    public PublicationStatus PublicationStatusAt(ulong time)
        => Publication.StatusAt(Status, PublicationMonths, PublicationEndsAt, !OpenObjection.IsZero, time);
}

public sealed partial record ObjectionState
{
    public bool IsOpen => Outcome == 0;

    /// <summary>Open past its deadline: visible to everyone from block time alone, no transaction needed.</summary>
    public bool IsOverdueAt(ulong time) => IsOpen && time > DeadlineAt;

    public bool WasAnsweredLate => !IsOpen && ResolvedAt > DeadlineAt;
}

public sealed partial record LicenceState
{
    /// <summary>The recorded status, except that a valid licence past its end date reads as 05 expired.</summary>
    public LicenceStatus EffectiveStatusAt(ulong time)
        => Status is LicenceStatus.Valid or LicenceStatus.Suspended && time >= ValidTo ? LicenceStatus.Expired : Status;
}

public sealed partial record ListEntryState
{
    public bool IsActiveAt(ulong time) => Publication.IsListingActiveAt(EffectiveFrom, ExpiresAt, RemovedAt, time);
}

public sealed partial record MemorandumState
{
    public bool IsInForceAt(ulong time) => time >= EffectiveFrom && (EffectiveTo == 0 || time < EffectiveTo);
}
