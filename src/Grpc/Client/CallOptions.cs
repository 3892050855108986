namespace SmartCity.Grpc.Client;

/// <summary>Per-call options, as Grpc.Core's <c>CallOptions</c>: request metadata, a UTC deadline and a token.</summary>
public readonly record struct CallOptions(Metadata? Headers = null, DateTime? Deadline = null, CancellationToken CancellationToken = default);
