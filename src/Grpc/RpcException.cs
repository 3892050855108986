namespace SmartCity.Grpc;

/// <summary>
/// A call that ended with a non-OK status. Thrown by a service to answer with that status (its
/// <see cref="Trailers"/> are sent as response trailers) and thrown by the client when the server answers with it.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(Status status)
        : this(status, new Metadata())
    {
    }

    public RpcException(Status status, Metadata trailers)
        : base(status.ToString())
    {
        Status = status;
        Trailers = trailers;
    }

    public RpcException(StatusCode code, string detail)
        : this(new Status(code, detail))
    {
    }

    public Status Status { get; }

    public StatusCode StatusCode => Status.StatusCode;

    public Metadata Trailers { get; }
}
