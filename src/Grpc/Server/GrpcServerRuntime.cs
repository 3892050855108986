using Microsoft.Extensions.Logging;

namespace SmartCity.Grpc.Server;

/// <summary>What every method handler shares: the options, the clock and the logger.</summary>
internal sealed record GrpcServerRuntime(GrpcServerOptions Options, TimeProvider TimeProvider, ILogger Logger);
