using Google.Protobuf;

namespace SmartCity.Grpc;

/// <summary>The call shapes this layer supports (client and bidirectional streaming are not implemented).</summary>
public enum MethodType
{
    Unary,
    ServerStreaming,
}

/// <summary>A method of a service, independent of its message types.</summary>
public interface IMethod
{
    MethodType Type { get; }

    /// <summary>Fully qualified service name, e.g. <c>smartcity.node.v1.NodeService</c>.</summary>
    string ServiceName { get; }

    string Name { get; }

    /// <summary>The HTTP/2 path of the method: <c>/{ServiceName}/{Name}</c>.</summary>
    string FullName { get; }
}

/// <summary>
/// A method bound to its protobuf request and response types: what Grpc.Tools generates as
/// <c>Method&lt;TRequest, TResponse&gt;</c>, with the message parsers in place of marshallers.
/// </summary>
public sealed class Method<TRequest, TResponse> : IMethod
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public Method(MethodType type, string serviceName, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = $"/{serviceName}/{name}";
    }

    public MethodType Type { get; }

    public string ServiceName { get; }

    public string Name { get; }

    public string FullName { get; }

    public MessageParser<TRequest> RequestParser { get; } = new(() => new TRequest());

    public MessageParser<TResponse> ResponseParser { get; } = new(() => new TResponse());

    public override string ToString() => FullName;
}
