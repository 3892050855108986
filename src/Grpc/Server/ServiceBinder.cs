using Google.Protobuf;

namespace SmartCity.Grpc.Server;

public delegate Task<TResponse> UnaryServerMethod<in TService, in TRequest, TResponse>(TService service, TRequest request, ServerCallContext context);

public delegate Task ServerStreamingServerMethod<in TService, in TRequest, out TResponse>(TService service, TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);

/// <summary>
/// A service that can describe its methods: the hand-written equivalent of the <c>BindService</c> method
/// Grpc.Tools generates. <c>MapGrpcService&lt;T&gt;()</c> calls it once, at start-up.
/// </summary>
public interface IBindableService
{
    static abstract void BindService(ServiceBinder binder);
}

/// <summary>Collects the methods of one service implementation as it binds them.</summary>
public sealed class ServiceBinder
{
    private readonly List<ServerMethodHandler> _handlers = [];
    private readonly Type _implementationType;
    private readonly GrpcServerRuntime _runtime;

    internal ServiceBinder(Type implementationType, GrpcServerRuntime runtime)
    {
        _implementationType = implementationType;
        _runtime = runtime;
    }

    internal IReadOnlyList<ServerMethodHandler> Handlers => _handlers;

    public void AddUnaryMethod<TService, TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TService, TRequest, TResponse> handler)
        where TService : class
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        Check<TService>(method, MethodType.Unary);
        _handlers.Add(new UnaryMethodHandler<TService, TRequest, TResponse>(method, _implementationType, _runtime, handler));
    }

    public void AddServerStreamingMethod<TService, TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TService, TRequest, TResponse> handler)
        where TService : class
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        Check<TService>(method, MethodType.ServerStreaming);
        _handlers.Add(new ServerStreamingMethodHandler<TService, TRequest, TResponse>(method, _implementationType, _runtime, handler));
    }

    private void Check<TService>(IMethod method, MethodType expected)
    {
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method} is a {method.Type} method, not {expected}.", nameof(method));
        }

        if (!typeof(TService).IsAssignableFrom(_implementationType))
        {
            throw new ArgumentException($"{_implementationType} does not implement {typeof(TService)}, which binds {method}.", nameof(method));
        }
    }
}
