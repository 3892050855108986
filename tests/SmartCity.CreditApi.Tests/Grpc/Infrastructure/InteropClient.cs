using System.Diagnostics;
using System.Text.Json;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Grpc.Infrastructure;

/// <summary>
/// A gRPC client nobody here wrote (Python grpcio, Node @grpc/grpc-js), run as a child process on one scenario
/// of tests/interop/{python,node}; it prints its outcome as one JSON object.
/// </summary>
public abstract class InteropClient
{
    private static readonly TimeSpan ScenarioTimeout = TimeSpan.FromSeconds(60);
    private readonly Lazy<string?> _problem;

    protected InteropClient() => _problem = new Lazy<string?>(FindProblem);

    /// <summary>Why this client cannot run here, or null when it can.</summary>
    public string? Problem => _problem.Value;

    /// <summary>Skip outside CI when the client is missing; on CI (CI=true) never skip, fail instead.</summary>
    public string? SkipReason => Problem is { } problem && !PostgresFixture.IsCi ? $"{problem} (scripts/test.sh installs it)" : null;

    /// <summary>The name the scripts put in <c>echo</c> and metadata, e.g. <c>python</c>.</summary>
    public abstract string Language { get; }

    public async Task<JsonElement> RunAsync(string target, string scenario, params string[] arguments)
    {
        if (Problem is { } problem)
        {
            throw new InvalidOperationException($"CI=true, so the {Language} interop tests must run, but {problem}.");
        }

        var (fileName, prefix) = await CommandAsync();
        var result = await ChildProcess.RunAsync(fileName, [.. prefix, "--target", target, "--scenario", scenario, .. arguments], RepositoryFiles.Root, ScenarioTimeout);
        Assert.True(result.ExitCode == 0, $"{Language} client failed on '{scenario}': {result}");
        var lastLine = result.Output.TrimEnd().Split('\n')[^1];
        return JsonDocument.Parse(lastLine).RootElement.Clone();
    }

    protected abstract string? FindProblem();

    protected abstract Task<(string FileName, string[] Arguments)> CommandAsync();

    protected static bool Succeeds(string fileName, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>Debian's Python with python3-grpcio; stubs generated once per test run with grpc_tools.protoc (never committed, so they cannot drift).</summary>
public sealed class PythonInteropClient : InteropClient
{
    public const string Python = "/usr/bin/python3";

    public static PythonInteropClient Instance { get; } = new();

    private readonly Lazy<Task<string>> _stubs = new(GenerateStubsAsync);

    public override string Language => "python";

    protected override string? FindProblem()
        => !Succeeds(Python, "-c", "import grpc, grpc_tools.protoc")
            ? $"{Python} cannot import grpc and grpc_tools (apt-get install python3-grpcio python3-grpc-tools)"
            : StandardProtos.Problem;

    protected override async Task<(string FileName, string[] Arguments)> CommandAsync()
        => (Python, [RepositoryFiles.Combine("tests", "interop", "python", "node_client.py"), "--stubs", await _stubs.Value]);

    /// <summary>
    /// Python modules for node.proto (contracts/proto) and for the gRPC project's own health and reflection .proto
    /// files (from the npm packages grpc-health-check and @grpc/reflection). reflection.proto is compiled from a copy
    /// at reflection/v1/, because a module path under grpc/ would collide with the grpcio package; its proto package
    /// (and so the service name on the wire) stays grpc.reflection.v1.
    /// </summary>
    private static async Task<string> GenerateStubsAsync()
    {
        var directory = Directory.CreateTempSubdirectory("smartcity-grpc-py-").FullName;
        var protoRoot = RepositoryFiles.Combine("contracts", "proto");
        var healthRoot = RepositoryFiles.Combine("tests", "interop", "node_modules", "grpc-health-check", "proto");
        var reflectionRoot = Path.Combine(directory, "protos");
        Directory.CreateDirectory(Path.Combine(reflectionRoot, "reflection", "v1"));
        File.Copy(StandardProtos.ReflectionV1, Path.Combine(reflectionRoot, "reflection", "v1", "reflection.proto"));
        var result = await ChildProcess.RunAsync(
            Python,
            [
                "-m", "grpc_tools.protoc", $"-I{protoRoot}", $"-I{healthRoot}", $"-I{reflectionRoot}", $"--python_out={directory}", $"--grpc_python_out={directory}",
                Path.Combine(protoRoot, "smartcity", "node", "v1", "node.proto"),
                Path.Combine(healthRoot, "health", "v1", "health.proto"),
                Path.Combine(reflectionRoot, "reflection", "v1", "reflection.proto"),
            ],
            RepositoryFiles.Root,
            TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"grpc_tools.protoc failed: {result}");
        return directory;
    }
}

/// <summary>The gRPC project's own .proto files for health checking and reflection, as its npm packages ship them.</summary>
public static class StandardProtos
{
    public static string Health => RepositoryFiles.Combine("tests", "interop", "node_modules", "grpc-health-check", "proto", "health", "v1", "health.proto");

    public static string ReflectionV1 => RepositoryFiles.Combine("tests", "interop", "node_modules", "@grpc", "reflection", "build", "proto", "grpc", "reflection", "v1", "reflection.proto");

    /// <summary>Why the files are missing, or null.</summary>
    public static string? Problem => File.Exists(Health) && File.Exists(ReflectionV1)
        ? null
        : "tests/interop/node_modules lacks grpc-health-check or @grpc/reflection (run 'npm ci' in tests/interop)";
}

/// <summary>Node.js with @grpc/grpc-js and @grpc/proto-loader from tests/interop/node_modules (npm ci).</summary>
public sealed class NodeJsInteropClient : InteropClient
{
    private readonly string _script;

    private NodeJsInteropClient(string script) => _script = script;

    /// <summary>tests/interop/node/node_client.js: NodeService, health, reflection.</summary>
    public static NodeJsInteropClient Instance { get; } = new("node_client.js");

    /// <summary>tests/interop/node/credit_client.js: the credit API with requests signed by ethers.</summary>
    public static NodeJsInteropClient Credit { get; } = new("credit_client.js");

    public override string Language => "node";

    protected override string? FindProblem()
    {
        if (!Succeeds("node", "--version"))
        {
            return "'node' is not on PATH";
        }

        var modules = RepositoryFiles.Combine("tests", "interop", "node_modules");
        return Directory.Exists(Path.Combine(modules, "@grpc", "grpc-js")) && Directory.Exists(Path.Combine(modules, "@grpc", "proto-loader"))
            ? StandardProtos.Problem
            : $"{modules} lacks @grpc/grpc-js or @grpc/proto-loader (run 'npm ci' in tests/interop)";
    }

    protected override Task<(string FileName, string[] Arguments)> CommandAsync()
        => Task.FromResult(("node", new[] { RepositoryFiles.Combine("tests", "interop", "node", _script) }));
}

/// <summary>A fact that needs Python grpcio: skipped outside CI when it is missing, failing on CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PythonInteropFactAttribute : FactAttribute
{
    public PythonInteropFactAttribute() => Skip = PythonInteropClient.Instance.SkipReason;
}

/// <summary>A fact that needs Node @grpc/grpc-js: skipped outside CI when it is missing, failing on CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeJsInteropFactAttribute : FactAttribute
{
    public NodeJsInteropFactAttribute() => Skip = NodeJsInteropClient.Instance.SkipReason;
}
