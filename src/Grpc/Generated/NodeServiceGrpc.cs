using Google.Protobuf.Reflection;
using SmartCity.Grpc;
using SmartCity.Grpc.Client;
using SmartCity.Grpc.Server;

namespace SmartCity.Contracts.Node.V1;

/// <summary>
/// <c>smartcity.node.v1.NodeService</c>: the hand-written equivalent of what Grpc.Tools generates with
/// <c>GrpcServices="Both"</c> (method table, service base class, typed client), in the same namespace and
/// with the same names, so swapping in Grpc.AspNetCore deletes this file and changes no service code beyond
/// its usings. A test checks the method table against the protobuf descriptor.
/// </summary>
public static class NodeService
{
    public const string ServiceName = "smartcity.node.v1.NodeService";

    public static Method<HealthRequest, HealthResponse> HealthMethod { get; } = new(MethodType.Unary, ServiceName, "Health");

    public static Method<StatusRequest, StatusResponse> StatusMethod { get; } = new(MethodType.Unary, ServiceName, "Status");

    public static Method<WatchRequest, Heartbeat> WatchMethod { get; } = new(MethodType.ServerStreaming, ServiceName, "Watch");

    public static ServiceDescriptor Descriptor => NodeReflection.Descriptor.Services[0];

    /// <summary>Derive from this to implement the service; methods not overridden answer UNIMPLEMENTED.</summary>
    public abstract class NodeServiceBase : IBindableService
    {
        public virtual Task<HealthResponse> Health(HealthRequest request, ServerCallContext context)
            => throw Unimplemented(HealthMethod);

        public virtual Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
            => throw Unimplemented(StatusMethod);

        public virtual Task Watch(WatchRequest request, IServerStreamWriter<Heartbeat> responseStream, ServerCallContext context)
            => throw Unimplemented(WatchMethod);

        public static void BindService(ServiceBinder binder)
        {
            ArgumentNullException.ThrowIfNull(binder);
            binder.AddUnaryMethod<NodeServiceBase, HealthRequest, HealthResponse>(HealthMethod, static (service, request, context) => service.Health(request, context));
            binder.AddUnaryMethod<NodeServiceBase, StatusRequest, StatusResponse>(StatusMethod, static (service, request, context) => service.Status(request, context));
            binder.AddServerStreamingMethod<NodeServiceBase, WatchRequest, Heartbeat>(WatchMethod, static (service, request, stream, context) => service.Watch(request, stream, context));
        }

        private static RpcException Unimplemented(IMethod method)
            => new(StatusCode.Unimplemented, $"Method '{method.Name}' is not implemented by service '{method.ServiceName}'.");
    }

    /// <summary>Typed client over a <see cref="GrpcChannel"/>.</summary>
    public sealed class NodeServiceClient(GrpcChannel channel)
    {
        public AsyncUnaryCall<HealthResponse> HealthAsync(HealthRequest request, CallOptions options = default)
            => channel.CallUnaryAsync(HealthMethod, request, options);

        public AsyncUnaryCall<StatusResponse> StatusAsync(StatusRequest request, CallOptions options = default)
            => channel.CallUnaryAsync(StatusMethod, request, options);

        public AsyncServerStreamingCall<Heartbeat> Watch(WatchRequest request, CallOptions options = default)
            => channel.CallServerStreaming(WatchMethod, request, options);
    }
}
