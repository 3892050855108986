using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmartCity.Grpc.Server;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps gRPC services to endpoints, as Grpc.AspNetCore's <c>MapGrpcService&lt;T&gt;</c> does.</summary>
public static class GrpcEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every method <typeparamref name="TService"/> binds to <c>POST /{service}/{method}</c>, plus (once) a
    /// catch-all that answers other gRPC calls with UNIMPLEMENTED. An instance of <typeparamref name="TService"/>
    /// is taken from the container if registered there, otherwise created per call.
    /// </summary>
    public static IEndpointConventionBuilder MapGrpcService<TService>(this IEndpointRouteBuilder endpoints)
        where TService : class, IBindableService
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var provider = endpoints.ServiceProvider;
        var registry = provider.GetService<GrpcServiceRegistry>()
            ?? throw new InvalidOperationException("Call services.AddGrpcLayer() before MapGrpcService<T>().");
        var options = provider.GetRequiredService<IOptions<GrpcServerOptions>>().Value;
        options.Validate();
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("SmartCity.Grpc.Server");
        var runtime = new GrpcServerRuntime(options, provider.GetRequiredService<TimeProvider>(), logger);

        var binder = new ServiceBinder(typeof(TService), runtime);
        TService.BindService(binder);

        var builders = new List<IEndpointConventionBuilder>();
        foreach (var handler in binder.Handlers)
        {
            registry.Add(handler.Method);
            builders.Add(endpoints.MapPost(handler.Method.FullName, new RequestDelegate(handler.HandleAsync))
                .WithDisplayName($"gRPC - {handler.Method.FullName}"));
        }

        if (registry.ClaimFallback())
        {
            var unimplemented = new UnimplementedCallHandler(registry, logger);
            endpoints.MapPost("{**path}", new RequestDelegate(unimplemented.HandleAsync))
                .WithDisplayName("gRPC - unimplemented");
        }

        return new CompositeConventionBuilder(builders);
    }

    private sealed class CompositeConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }
    }
}
