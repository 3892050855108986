using SmartCity.Ledger.Domain;

namespace SmartCity.CreditApi.Services.Api;

/// <summary>
/// The roles matrix of the credit API (README, "Roles"): for each method, the member roles any one of which lets a
/// caller use it. <see cref="AnyMember"/> means every member (the ledger's own rules then decide, e.g. for
/// submissions). A method missing here is refused to everyone: a new method must be placed in the matrix.
/// </summary>
public static class ApiRoles
{
    /// <summary>Stands for "every member" in the matrix.</summary>
    public const MemberRole AnyMember = MemberRoles.All;

    private const string Credit = "/smartcity.credit.v1.CreditService/";
    private const string Attestation = "/smartcity.credit.v1.AttestationService/";
    private const string Incentive = "/smartcity.credit.v1.IncentiveService/";
    private const string Audit = "/smartcity.audit.v1.AuditService/";

    public static IReadOnlyDictionary<string, MemberRole> Matrix { get; } = new Dictionary<string, MemberRole>(StringComparer.Ordinal)
    {
        [Credit + "GetTrustScore"] = MemberRole.CreditBureau | MemberRole.Bank | MemberRole.Regulator,
        [Credit + "ListCreditRecords"] = MemberRole.CreditBureau | MemberRole.Regulator | MemberRole.CreditDesignator,
        [Credit + "SubmitTransaction"] = AnyMember,
        [Attestation + "GetLicence"] = MemberRole.Bank | MemberRole.CreditBureau | MemberRole.Regulator | MemberRole.LicenceIssuer,
        [Attestation + "VerifyLicence"] = MemberRole.Bank | MemberRole.CreditBureau | MemberRole.Regulator | MemberRole.LicenceIssuer,
        [Attestation + "ListLicencesByHolder"] = MemberRole.Bank | MemberRole.Regulator | MemberRole.LicenceIssuer,
        [Incentive + "ListEntries"] = MemberRole.CreditBureau | MemberRole.Bank | MemberRole.Regulator | MemberRole.ListInitiator | MemberRole.MeasureImplementer,
        // A measure implementer sees its own region only (checked by the service); a regulator any region.
        [Incentive + "GetApplicableMeasures"] = MemberRole.MeasureImplementer | MemberRole.Regulator,
        [Audit + "GetCertifiedHeader"] = AnyMember,
        [Audit + "StreamBlocks"] = MemberRole.Regulator,
        [Audit + "GetTransaction"] = MemberRole.Regulator,
        [Audit + "GetConsistencyProof"] = MemberRole.Regulator | MemberRole.Bank,
        [Audit + "VerifyChain"] = MemberRole.Regulator,
        [Audit + "GetAccessLog"] = MemberRole.Regulator,
        [Audit + "ListReconciliationReports"] = MemberRole.Regulator,
        // A credit designator sees the notifications about its own records only (filtered by the service).
        [Audit + "ListLifecycleNotifications"] = MemberRole.Regulator | MemberRole.CreditDesignator,
    };

    /// <summary>The services whose every call is authenticated (by full gRPC service name).</summary>
    public static IReadOnlySet<string> ProtectedServices { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "smartcity.credit.v1.CreditService",
        "smartcity.credit.v1.AttestationService",
        "smartcity.credit.v1.IncentiveService",
        "smartcity.audit.v1.AuditService",
    };

    public static bool IsProtected(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var slash = method.IndexOf('/', 1);
        return method.Length > 1 && slash > 1 && ProtectedServices.Contains(method[1..slash]);
    }

    public static bool Allows(string method, MemberRole roles)
        => Matrix.TryGetValue(method, out var allowed) && (roles & allowed) != MemberRole.None;
}
