using Microsoft.Extensions.Diagnostics.HealthChecks;
using SmartCity.CreditApi.Node;

namespace SmartCity.CreditApi.Health;

/// <summary>
/// The health check behind <c>grpc.health.v1.Health</c> (Grpc.AspNetCore.HealthChecks): Healthy (SERVING) when every
/// <see cref="NodeReadiness"/> condition is met, Unhealthy (NOT_SERVING) with the conditions still waiting otherwise.
/// </summary>
public sealed class NodeReadinessHealthCheck(NodeReadiness readiness) : IHealthCheck
{
    public const string Name = "node-readiness";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var waiting = readiness.Waiting();
        return Task.FromResult(waiting.Count == 0
            ? HealthCheckResult.Healthy("ready")
            : HealthCheckResult.Unhealthy("waiting for " + string.Join(", ", waiting)));
    }
}
