using SmartCity.Contracts.Node.V1;
using SmartCity.Grpc.Tests.Infrastructure;

namespace SmartCity.Grpc.Tests;

/// <summary>Clients against the real <c>smartcity node</c> process.</summary>
public sealed class NodeProcessTests(NodeProcess node) : IClassFixture<NodeProcess>
{
    [Fact]
    public async Task Node_process_answers_health_and_status_with_its_configured_region()
    {
        var health = await node.Client.HealthAsync(new HealthRequest());
        var status = await node.Client.StatusAsync(new StatusRequest { Echo = "ping" });

        Assert.Equal(HealthResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal((NodeProcess.Region, NodeProcess.NodeId, "ping"), (status.Region, status.NodeId, status.Echo));
        Assert.Equal("127.0.0.1", node.Address.Host);
        Assert.NotEqual(0, node.Address.Port);
    }

    [Fact]
    public async Task Node_process_enforces_its_configured_message_size_limit()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await node.Client.StatusAsync(new StatusRequest { Echo = new string('x', NodeProcess.MaxReceiveMessageSize) }));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal($"Received message of {NodeProcess.MaxReceiveMessageSize + 4} bytes exceeds the maximum message size of {NodeProcess.MaxReceiveMessageSize} bytes.", error.Status.Detail);
    }

    [PythonInteropFact]
    public Task Python_unary_call_against_the_node_process_carries_fields_and_metadata()
        => InteropScenarios.UnaryCallCarriesFieldsAndMetadataBothWaysAsync(PythonInteropClient.Instance, node.Target, NodeProcess.Region, NodeProcess.NodeId);

    [PythonInteropFact]
    public Task Python_stream_cancelled_midway_is_observed_by_the_node_process()
        => InteropScenarios.StreamCancelledMidwayIsObservedByTheServerAsync(PythonInteropClient.Instance, node.Target, node.Client);

    [NodeJsInteropFact]
    public Task Node_js_unary_call_against_the_node_process_carries_fields_and_metadata()
        => InteropScenarios.UnaryCallCarriesFieldsAndMetadataBothWaysAsync(NodeJsInteropClient.Instance, node.Target, NodeProcess.Region, NodeProcess.NodeId);
}

/// <summary>Starting and stopping <c>smartcity node</c>.</summary>
public sealed class NodeCommandTests
{
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Node_process_stops_cleanly_on_a_termination_signal(string signal)
    {
        await using var node = new NodeProcess();
        await node.InitializeAsync();
        await node.Client.HealthAsync(new HealthRequest());

        var exitCode = await node.StopAsync(signal);

        Assert.True(exitCode == 0, $"exit code {exitCode} after SIG{signal}: {node.Error}");
    }

    [Fact]
    public async Task Node_process_ends_open_streams_with_unavailable_and_stops_promptly_on_sigterm()
    {
        await using var node = new NodeProcess();
        await node.InitializeAsync();
        using var watch = node.Client.Watch(new WatchRequest { IntervalMs = 20 });
        await using var stream = watch.ResponseStream.GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var exitCode = await node.StopAsync();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.MoveNextAsync())
            {
            }
        });

        Assert.Equal(0, exitCode);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal(new Status(StatusCode.Unavailable, "The node is shutting down."), error.Status);
    }

    [Theory]
    [InlineData(new[] { "--region", "SH", "--listen", "127.0.0.1:0" }, "smartcity node: --region must be one of BJ, TJ, HE, XA, got 'SH'")]
    [InlineData(new[] { "--listen", "127.0.0.1:0" }, "smartcity node: Option '--region' is required.")]
    [InlineData(new[] { "--region", "BJ", "--listen", "localhost" }, "smartcity node: --listen must be HOST:PORT with an IP address, e.g. 127.0.0.1:50051, got 'localhost'")]
    [InlineData(new[] { "--region", "BJ", "--listen", "127.0.0.1:0", "--max-message-bytes", "0" }, "smartcity node: --max-message-bytes must be positive, got 0")]
    [InlineData(new[] { "--region", "BJ", "--listen", "127.0.0.1:0", "--port", "1" }, "smartcity node: Unrecognized command or argument '--port'.")]
    public async Task Node_command_rejects_bad_input_with_one_line_and_exit_code_2(string[] arguments, string expectedError)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await CreditApi.Cli.CommandLine.RunAsync(CreditApi.Cli.CliRoot.Create(), ["node", .. arguments], output, error, CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.Equal(expectedError + Environment.NewLine, error.ToString());
        Assert.Empty(output.ToString());
    }
}
