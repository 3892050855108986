using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Server;

/// <summary>Answers a gRPC call to a path no service method is mapped to with UNIMPLEMENTED.</summary>
internal sealed class UnimplementedCallHandler(GrpcServiceRegistry registry, ILogger logger)
{
    public async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        if (!GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var status = new Status(StatusCode.Unimplemented, Describe(path));
        GrpcServerLog.RequestRejected(logger, path, status.StatusCode, status.Detail);
        http.Response.StatusCode = StatusCodes.Status200OK;
        await ServerMethodHandler.WriteStatusAsync(http, null, status).ConfigureAwait(false);
    }

    private string Describe(string path)
    {
        var parts = path.TrimStart('/').Split('/');
        if (parts.Length != 2)
        {
            return $"'{path}' is not a gRPC method path (expected /package.Service/Method).";
        }

        return registry.HasService(parts[0])
            ? $"Method '{parts[1]}' is not implemented by service '{parts[0]}'."
            : $"Service '{parts[0]}' is not implemented.";
    }
}
