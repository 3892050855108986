namespace SmartCity.Ledger.Domain;

/// <summary>What a member institution may do. A court or a tax office is a credit designator and a list initiator.</summary>
[Flags]
#pragma warning disable CA1028 // the roles are a 32-bit bit set on the wire and in EIP-712 (uint32)
public enum MemberRole : uint
#pragma warning restore CA1028
{
    None = 0,
    CreditDesignator = 1 << 0,
    LicenceIssuer = 1 << 1,
    ListInitiator = 1 << 2,
    MemorandumPublisher = 1 << 3,
    MeasureImplementer = 1 << 4,

    /// <summary>A licensed credit bureau (征信机构): reads trust scores and credit records through the credit API; submits nothing.</summary>
    CreditBureau = 1 << 5,

    /// <summary>A bank: reads trust scores and verifies e-licences (with receipts) through the credit API; submits nothing.</summary>
    Bank = 1 << 6,

    /// <summary>A supervising regulator: audits history, blocks, transactions and the access log through the credit API.</summary>
    Regulator = 1 << 7,
}

public static class MemberRoles
{
    public const MemberRole All = MemberRole.CreditDesignator | MemberRole.LicenceIssuer | MemberRole.ListInitiator | MemberRole.MemorandumPublisher | MemberRole.MeasureImplementer
        | MemberRole.CreditBureau | MemberRole.Bank | MemberRole.Regulator;
}
