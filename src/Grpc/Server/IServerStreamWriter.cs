namespace SmartCity.Grpc.Server;

/// <summary>The response stream of a server-streaming method. Writes must not overlap.</summary>
public interface IServerStreamWriter<in T>
{
    /// <summary>Sends one message; throws <see cref="OperationCanceledException"/> once the call is cancelled.</summary>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}
