namespace SmartCity.Grpc.Client;

/// <summary>The state of one call that the call objects handed to callers expose.</summary>
internal interface IClientCall : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }

    Status GetStatus();

    Metadata GetTrailers();
}
