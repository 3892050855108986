using SmartCity.Contracts.Node.V1;

namespace SmartCity.Grpc.Tests;

/// <summary>The hand-written method table must say what node.proto says.</summary>
public sealed class NodeServiceBindingTests
{
    [Fact]
    public void Method_table_matches_the_protobuf_service_descriptor()
    {
        var fromDescriptor = NodeService.Descriptor.Methods
            .Select(m => (m.Service.FullName, m.Name, m.InputType.ClrType, m.OutputType.ClrType, Streaming: m.IsServerStreaming, m.IsClientStreaming))
            .ToList();
        var fromTable = new (IMethod Method, Type Request, Type Response)[]
            {
                (NodeService.HealthMethod, typeof(HealthRequest), typeof(HealthResponse)),
                (NodeService.StatusMethod, typeof(StatusRequest), typeof(StatusResponse)),
                (NodeService.WatchMethod, typeof(WatchRequest), typeof(Heartbeat)),
            }
            .Select(m => (m.Method.ServiceName, m.Method.Name, m.Request, m.Response, Streaming: m.Method.Type == MethodType.ServerStreaming, false))
            .ToList();

        Assert.Equal(fromDescriptor, fromTable);
    }
}
