using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>
/// The outcome of applying one transaction: accepted with its state writes, or rejected with a code and a reason
/// (and no writes). <see cref="TransactionHash"/> is zero when the bytes did not even decode.
/// </summary>
public sealed record Transition(Hash256 TransactionHash, RejectionCode Code, string Reason, IReadOnlyList<StateWrite> Writes)
{
    public bool IsAccepted => Code == RejectionCode.None;

    public static Transition Accepted(Hash256 transactionHash, IReadOnlyList<StateWrite> writes) => new(transactionHash, RejectionCode.None, string.Empty, writes);

    public static Transition Rejected(Hash256 transactionHash, RejectionCode code, string reason) => new(transactionHash, code, reason, []);

    public override string ToString() => IsAccepted ? $"accepted {TransactionHash} ({Writes.Count} writes)" : $"rejected {TransactionHash}: {Code} — {Reason}";
}

/// <summary>A rule's verdict inside the machine: <see cref="Ok"/> or a rejection.</summary>
internal readonly record struct Verdict(RejectionCode Code, string Reason)
{
    public static Verdict Ok => default;

    public bool IsOk => Code == RejectionCode.None;

    public static Verdict Reject(RejectionCode code, string reason) => new(code, reason);
}
