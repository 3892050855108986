namespace SmartCity.CreditApi.Services.Api;

/// <summary>Limits of the credit API's authentication and access log (validated when the host starts).</summary>
public sealed class ApiOptions
{
    /// <summary>How far a request's timestamp may be from the node's clock, either way; also how long a nonce is remembered.</summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Nonces remembered at most (within the window); beyond it requests are refused RESOURCE_EXHAUSTED.</summary>
    public int MaxRememberedNonces { get; set; } = 1_000_000;

    /// <summary>Access-log entries waiting for the writer at most; beyond it reads are refused RESOURCE_EXHAUSTED.</summary>
    public int AccessLogQueueCapacity { get; set; } = 10_000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ReplayWindow <= TimeSpan.Zero || ReplayWindow > TimeSpan.FromHours(1))
        {
            errors.Add($"replay window must be within (0, 1 h], got {ReplayWindow}");
        }

        if (MaxRememberedNonces < 1000)
        {
            errors.Add($"at least 1000 nonces must be remembered, got {MaxRememberedNonces}");
        }

        if (AccessLogQueueCapacity < 1)
        {
            errors.Add($"the access-log queue needs a capacity of 1 or more, got {AccessLogQueueCapacity}");
        }

        return errors;
    }
}
