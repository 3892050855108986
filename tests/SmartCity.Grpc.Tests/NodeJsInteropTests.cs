using SmartCity.Grpc.Tests.Infrastructure;

namespace SmartCity.Grpc.Tests;

/// <summary>Node @grpc/grpc-js with @grpc/proto-loader against a real in-process node.</summary>
public sealed class NodeJsInteropTests(InProcessNode node) : IClassFixture<InProcessNode>
{
    private static NodeJsInteropClient NodeJs => NodeJsInteropClient.Instance;

    [NodeJsInteropFact]
    public Task Unary_call_carries_fields_and_metadata_both_ways()
        => InteropScenarios.UnaryCallCarriesFieldsAndMetadataBothWaysAsync(NodeJs, node.Target, InProcessNode.Region, InProcessNode.NodeId);

    [NodeJsInteropFact]
    public Task Deadline_that_expires_is_seen_by_the_client_and_cancels_the_server()
        => InteropScenarios.DeadlineThatExpiresIsSeenByTheClientAndCancelsTheServerAsync(NodeJs, node.Target, node.Client);

    [NodeJsInteropFact]
    public Task Oversized_message_is_rejected_with_resource_exhausted()
        => InteropScenarios.OversizedMessageIsRejectedWithResourceExhaustedAsync(NodeJs, node.Target, InProcessNode.MaxReceiveMessageSize);

    [NodeJsInteropFact]
    public Task Unknown_method_answers_unimplemented()
        => InteropScenarios.UnknownMethodAnswersUnimplementedAsync(NodeJs, node.Target);

    [NodeJsInteropFact]
    public Task Stream_cancelled_midway_is_observed_by_the_server()
        => InteropScenarios.StreamCancelledMidwayIsObservedByTheServerAsync(NodeJs, node.Target, node.Client);
}
