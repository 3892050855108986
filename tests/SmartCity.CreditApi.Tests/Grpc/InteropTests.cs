using SmartCity.CreditApi.Tests.Grpc.Infrastructure;

namespace SmartCity.CreditApi.Tests.Grpc;

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

    [PythonInteropFact]
    public Task Standard_health_check_answers_serving_for_the_node_and_its_service()
        => InteropScenarios.HealthAnswersServingForTheNodeAndItsServiceAsync(Python, node.Target);

    [PythonInteropFact]
    public Task Standard_health_check_of_an_unknown_service_is_not_found()
        => InteropScenarios.HealthOfAnUnknownServiceIsNotFoundAsync(Python, node.Target);

    [PythonInteropFact]
    public Task Standard_health_check_follows_the_nodes_readiness()
        => InteropScenarios.HealthFollowsTheNodesReadinessAsync(Python, node.Target, node.Readiness);

    [PythonInteropFact]
    public Task Reflection_lists_the_services_and_describes_node_service_well_enough_to_call_it()
        => InteropScenarios.ReflectionListsTheServicesAndDescribesNodeServiceWellEnoughToCallItAsync(Python, node.Target, InProcessNode.Region);

}

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

    [NodeJsInteropFact]
    public Task Standard_health_check_answers_serving_for_the_node_and_its_service()
        => InteropScenarios.HealthAnswersServingForTheNodeAndItsServiceAsync(NodeJs, node.Target);

    [NodeJsInteropFact]
    public Task Standard_health_check_of_an_unknown_service_is_not_found()
        => InteropScenarios.HealthOfAnUnknownServiceIsNotFoundAsync(NodeJs, node.Target);

    [NodeJsInteropFact]
    public Task Standard_health_check_follows_the_nodes_readiness()
        => InteropScenarios.HealthFollowsTheNodesReadinessAsync(NodeJs, node.Target, node.Readiness);

    [NodeJsInteropFact]
    public Task Reflection_lists_the_services_and_describes_node_service_well_enough_to_call_it()
        => InteropScenarios.ReflectionListsTheServicesAndDescribesNodeServiceWellEnoughToCallItAsync(NodeJs, node.Target, InProcessNode.Region);

}

/// <summary>
/// Python grpcio and Node @grpc/grpc-js against the real <c>smartcity node --config</c> process serving a live
/// single-node chain: each submits, waits for the commit, reads the receipt and the block (one node per class).
/// </summary>
public sealed class LiveChainPythonInteropTests(NodeProcess node) : IClassFixture<NodeProcess>
{
    [PythonInteropFact]
    public Task Python_submits_to_a_live_chain_waits_for_the_commit_and_gets_a_receipt_that_verifies_offline()
        => InteropScenarios.SubmitsWaitsForTheCommitAndGetsAReceiptThatVerifiesOfflineAsync(PythonInteropClient.Instance, node.Target, node.Ledger);
}

/// <summary>The same with Node @grpc/grpc-js, on a node of its own.</summary>
public sealed class LiveChainNodeJsInteropTests(NodeProcess node) : IClassFixture<NodeProcess>
{
    [NodeJsInteropFact]
    public Task Node_js_submits_to_a_live_chain_waits_for_the_commit_and_gets_a_receipt_that_verifies_offline()
        => InteropScenarios.SubmitsWaitsForTheCommitAndGetsAReceiptThatVerifiesOfflineAsync(NodeJsInteropClient.Instance, node.Target, node.Ledger);
}
