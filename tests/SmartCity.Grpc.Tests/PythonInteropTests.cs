using SmartCity.Grpc.Tests.Infrastructure;

namespace SmartCity.Grpc.Tests;

/// <summary>Python grpcio (Debian's python3-grpcio) against a real in-process node.</summary>
public sealed class PythonInteropTests(InProcessNode node) : IClassFixture<InProcessNode>
{
    private static PythonInteropClient Python => PythonInteropClient.Instance;

    [PythonInteropFact]
    public Task Unary_call_carries_fields_and_metadata_both_ways()
        => InteropScenarios.UnaryCallCarriesFieldsAndMetadataBothWaysAsync(Python, node.Target, InProcessNode.Region, InProcessNode.NodeId);

    [PythonInteropFact]
    public Task Deadline_that_expires_is_seen_by_the_client_and_cancels_the_server()
        => InteropScenarios.DeadlineThatExpiresIsSeenByTheClientAndCancelsTheServerAsync(Python, node.Target, node.Client);

    [PythonInteropFact]
    public Task Oversized_message_is_rejected_with_resource_exhausted()
        => InteropScenarios.OversizedMessageIsRejectedWithResourceExhaustedAsync(Python, node.Target, InProcessNode.MaxReceiveMessageSize);

    [PythonInteropFact]
    public Task Unknown_method_answers_unimplemented()
        => InteropScenarios.UnknownMethodAnswersUnimplementedAsync(Python, node.Target);

    [PythonInteropFact]
    public Task Stream_cancelled_midway_is_observed_by_the_server()
        => InteropScenarios.StreamCancelledMidwayIsObservedByTheServerAsync(Python, node.Target, node.Client);
}
