using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using SmartCity.CreditApi.Cli;

namespace SmartCity.CreditApi.Tests.Cli;

/// <summary>
/// Every command of the tool's tree — found by walking the System.CommandLine root, so a new command is covered
/// without editing this file — keeps the contract on bad input: exit code 2 and exactly one line on stderr.
/// </summary>
public sealed class EveryCommandContractTests : IDisposable
{
    /// <summary>JSON whose string holds bytes that are not UTF-8 (0xFF, a lone continuation byte, a truncated sequence).</summary>
    private static readonly byte[] InvalidUtf8Json = [.. "{\"name\":\""u8.ToArray(), 0xFF, 0x80, 0xE2, 0x82, .. "\"}"u8.ToArray()];

    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-cli-contract-").FullName;

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var command in AllCommands())
        {
            data.Add(command);
        }

        return data;
    }

    [Fact]
    public void The_walk_finds_every_command_of_the_tree()
    {
        var commands = AllCommands();

        Assert.Contains("", commands);
        Assert.Contains("receipt verify", commands);
        Assert.Contains("node", commands);
        Assert.Equal(commands.Count, commands.Distinct().Count());
        Assert.True(commands.Count >= 14, string.Join(", ", commands));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Every_command_refuses_an_unknown_option_with_exit_code_2_and_one_stderr_line(string command)
    {
        var (code, output, error) = await RunAsync([.. Split(command), "--no-such-option"]);

        AssertOneLineFailure(command, code, output, error);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Every_command_refuses_a_file_of_invalid_utf8_json_in_every_option_with_exit_code_2_and_one_stderr_line(string command)
    {
        var bad = Path.Combine(_directory, "invalid-utf8.json");
        await File.WriteAllBytesAsync(bad, InvalidUtf8Json);
        var args = new List<string>(Split(command));
        var target = Find(command);
        foreach (var option in target.Options.Where(o => o is not System.CommandLine.Help.HelpOption && o != CliRoot.Verbose && !o.Hidden && o.ValueType != typeof(bool)))
        {
            args.Add(option.Name);
            args.Add(bad);
        }

        var (code, output, error) = await RunAsync([.. args]);

        if (target.Options.All(o => o is System.CommandLine.Help.HelpOption || o == CliRoot.Verbose || o.ValueType == typeof(bool)) && target.Subcommands.Count == 0 && target.Arguments.Count == 0)
        {
            // A command without options (version) has no input to spoil; give it an argument it does not take.
            (code, output, error) = await RunAsync([.. args, bad]);
        }
        else if (target.Subcommands.Count > 0)
        {
            // A group: the bad "input" is a sub-command that does not exist.
            (code, output, error) = await RunAsync([.. Split(command), bad]);
        }

        AssertOneLineFailure(command, code, output, error);
    }

    [Theory]
    [InlineData("crypto eip712-digest --typed-data {0}")]
    [InlineData("receipt verify --file {0} --genesis {0}")]
    [InlineData("demo --genesis {0}")]
    [InlineData("node --config {0}")]
    public async Task Invalid_utf8_in_any_json_input_is_bad_input_named_as_such(string template)
    {
        var bad = Path.Combine(_directory, "spoiled.json");
        await File.WriteAllBytesAsync(bad, InvalidUtf8Json);

        var (code, output, error) = await RunAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, bad).Split(' '));

        Assert.Equal((2, ""), (code, output));
        Assert.Single(Lines(error));
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_receipt_with_invalid_utf8_is_bad_input_before_the_genesis_is_read()
    {
        var receipt = Path.Combine(_directory, "receipt.json");
        await File.WriteAllBytesAsync(receipt, InvalidUtf8Json);

        var (code, _, error) = await RunAsync(["receipt", "verify", "--file", receipt, "--genesis", Path.Combine(_directory, "missing.json")]);

        Assert.Equal((2, $"smartcity receipt verify: --file: '{receipt}' is not UTF-8 text"), (code, error.TrimEnd()));
    }

    [Fact]
    public async Task Node_on_a_port_already_in_use_exits_2_with_one_line()
    {
        var setup = Path.Combine(_directory, "setup");
        Assert.Equal(0, (await RunAsync(["init", "--dir", setup, "--base-port", "0"])).Code);
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (code, output, error) = await RunAsync(["node", "--config", Path.Combine(setup, "node-bj.json"), "--listen", $"127.0.0.1:{port}"]);

        Assert.Equal((2, ""), (code, output));
        var line = Assert.Single(Lines(error));
        Assert.StartsWith($"smartcity node: --listen: cannot listen on 127.0.0.1:{port}: ", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(setup, "data")), "the ledger was opened although the node could not listen");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<string> AllCommands() => [.. Walk(CliRoot.Create(), []).Select(path => string.Join(' ', path))];

    private static IEnumerable<string[]> Walk(Command command, string[] path)
    {
        yield return path;
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
        {
            foreach (var found in Walk(sub, [.. path, sub.Name]))
            {
                yield return found;
            }
        }
    }

    private static Command Find(string command)
    {
        Command current = CliRoot.Create();
        foreach (var name in Split(command))
        {
            current = current.Subcommands.Single(c => c.Name == name);
        }

        return current;
    }

    private static string[] Split(string command) => command.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static void AssertOneLineFailure(string command, int code, string output, string error)
    {
        Assert.True(code == 2, $"'smartcity {command}' exited {code}; stderr: {error}");
        var line = Assert.Single(Lines(error));
        Assert.StartsWith(("smartcity " + command).TrimEnd(), line, StringComparison.Ordinal);
        Assert.Equal("", output);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
