using Grpc.Core;
using SmartCity.Contracts.Node.V1;
using SmartCity.CreditApi.Tests.Grpc.Infrastructure;
using SmartCity.Testing.TestKit;

namespace SmartCity.CreditApi.Tests.Grpc;

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
    public void Node_process_runs_the_collector_its_project_configures_and_says_so_before_listening()
    {
        // NodeProcess.props: server GC, compacting at a tenth free (conserve memory 9), large objects from 4 MiB. The line
        // is the runtime's own report, so it fails if the runtimeconfig loses a setting.
        var lines = node.Output.Split('\n', StringSplitOptions.TrimEntries);
        var collector = Assert.Single(lines, line => line.StartsWith("collector: ", StringComparison.Ordinal));

        Assert.StartsWith("collector: server GC (", collector, StringComparison.Ordinal);
        Assert.Contains(", conserve memory 9, large objects from 4 MiB, no heap limit", collector, StringComparison.Ordinal);
        Assert.True(Array.IndexOf(lines, collector) < Array.FindIndex(lines, line => line.StartsWith("listening on ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Node_process_keeps_its_memory_budget_from_the_start()
    {
        // memory.limitMiB, a GiB unless set; told in the log (standard error, written by the console logger's own thread).
        const string started = "node: memory budget 1024 MiB resident; a collection returns free memory to the system past 832 MiB";
        await Eventually.HoldsAsync(() => node.Error.Contains(started, StringComparison.Ordinal), every: TimeSpan.FromMilliseconds(50));

        Assert.Contains(started, node.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_process_enforces_its_configured_message_size_limit()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await node.Client.StatusAsync(new StatusRequest { Echo = new string('x', NodeProcess.MaxReceiveMessageSize) }));

        Assert.Equal(new Status(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size."), error.Status);
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

    [PythonInteropFact]
    public Task Python_health_check_of_the_node_process_answers_serving()
        => InteropScenarios.HealthAnswersServingForTheNodeAndItsServiceAsync(PythonInteropClient.Instance, node.Target);

    [NodeJsInteropFact]
    public Task Node_js_reflection_of_the_node_process_finds_and_calls_node_service()
        => InteropScenarios.ReflectionListsTheServicesAndDescribesNodeServiceWellEnoughToCallItAsync(NodeJsInteropClient.Instance, node.Target, NodeProcess.Region);
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
        if (signal == "INT" && SigIntIsIgnoredHere())
        {
            // Started from a background job of a non-interactive shell, this process ignores SIGINT and so does the
            // node it starts (ignored signals are inherited): as a background job must, the node keeps running.
            await node.SendSignalAsync("INT");
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Null(node.ExitCode);
            signal = "TERM";
        }

        var exitCode = await node.StopAsync(signal);

        Assert.True(exitCode == 0, $"exit code {exitCode} after SIG{signal}: {node.Error}");
    }

    /// <summary>Whether this process ignores SIGINT (Linux: bit 1 of SigIgn in /proc/self/status).</summary>
    private static bool SigIntIsIgnoredHere()
    {
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) : null;
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;
    }

    [Fact]
    public async Task Node_process_ends_open_streams_with_unavailable_and_stops_promptly_on_sigterm()
    {
        await using var node = new NodeProcess();
        await node.InitializeAsync();
        using var watch = node.Client.Watch(new WatchRequest { IntervalMs = 20 });
        await using var stream = watch.ResponseStream.ReadAllAsync().GetAsyncEnumerator();
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
    [InlineData(new string[0], "smartcity node: Option '--config' is required.")]
    [InlineData(new[] { "--config", "/nonexistent/node.json" }, "smartcity node: config '/nonexistent/node.json' does not exist")]
    [InlineData(new[] { "--config", "node.json", "--listen", "localhost" }, "smartcity node: --listen must be HOST:PORT with an IP address, e.g. 127.0.0.1:50051, got 'localhost'")]
    [InlineData(new[] { "--config", "node.json", "--max-message-bytes", "0" }, "smartcity node: --max-message-bytes must be a whole number of bytes between 1 and 67108864 (64 MiB), got '0'")]
    [InlineData(new[] { "--config", "node.json", "--port", "1" }, "smartcity node: Unrecognized command or argument '--port'.")]
    [InlineData(new[] { "--config", "node.json", "--tls-key", "k.pem" }, "smartcity node: --tls-key needs --tls-certificate")]
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

/// <summary>TLS on the node, with a certificate made for the test.</summary>
public sealed class NodeTlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-tls-").FullName;

    [Fact]
    public async Task Node_serves_grpc_over_tls_with_a_pem_certificate_and_key()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificatePath = Path.Combine(_directory, "node.crt");
        var keyPath = Path.Combine(_directory, "node.key");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        var settings = new Node.NodeSettings("BJ", "bj-tls", new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)) { Tls = new Node.NodeTlsSettings(certificatePath, keyPath) };
        await using var ledger = await LedgerSetup.CreateAsync("BJ");

        await using var app = Hosting.NodeHost.Build(settings, await ledger.StartupAsync());
        await app.StartAsync();
        var address = Hosting.NodeHost.ListeningAddress(app);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(address, new global::Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler });

        var status = await new NodeService.NodeServiceClient(channel).StatusAsync(new StatusRequest { Echo = "over tls" });

        Assert.Equal("https", address.Scheme);
        Assert.Equal(("BJ", "over tls"), (status.Region, status.Echo));
        await app.StopAsync();
    }

    [Fact]
    public async Task Node_command_with_an_unreadable_certificate_is_one_line_with_exit_code_2()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        await using var ledger = await LedgerSetup.CreateAsync("BJ");

        var exitCode = await CreditApi.Cli.CommandLine.RunAsync(CreditApi.Cli.CliRoot.Create(), ["node", "--config", ledger.ConfigPath, "--listen", "127.0.0.1:0", "--tls-certificate", Path.Combine(_directory, "absent.pfx")], output, error, CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"smartcity node: TLS certificate '{Path.Combine(_directory, "absent.pfx")}' cannot be loaded: ", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
