using Microsoft.Extensions.DependencyInjection.Extensions;
using SmartCity.Grpc.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gRPC layer, as Grpc.AspNetCore's <c>AddGrpc</c> does.</summary>
public static class GrpcServiceCollectionExtensions
{
    public static IServiceCollection AddGrpcLayer(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        services.AddOptions<GrpcServerOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrpcServiceRegistry>();
        return services;
    }
}
