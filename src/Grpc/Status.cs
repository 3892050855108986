namespace SmartCity.Grpc;

/// <summary>The outcome of a call: a code and a human-readable detail (the decoded <c>grpc-message</c>).</summary>
public readonly record struct Status(StatusCode StatusCode, string Detail)
{
    public static Status DefaultSuccess { get; } = new(StatusCode.OK, "");

    public override string ToString() => $"Status(StatusCode=\"{StatusCode}\", Detail=\"{Detail}\")";
}
