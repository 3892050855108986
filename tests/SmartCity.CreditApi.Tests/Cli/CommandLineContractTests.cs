using System.CommandLine;
using SmartCity.CreditApi.Cli;

namespace SmartCity.CreditApi.Tests.Cli;

/// <summary>The exit-code contract every command shares: 0 success, 1 negative verdict, 2 bad input (one line on stderr).</summary>
public sealed class CommandLineContractTests
{
    [Fact]
    public void Every_command_group_in_the_assembly_is_on_the_root_in_name_order()
    {
        var names = CliRoot.Create().Subcommands.Select(c => c.Name).ToList();

        Assert.Equal(["anchor", "audit", "bench", "crypto", "demo", "governance", "init", "keys", "licence", "node", "receipt", "score", "store", "submit", "version"], names);
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "smartcity: Unrecognized command or argument 'frobnicate'.")]
    [InlineData(new[] { "keys", "bogus" }, "smartcity keys: Unrecognized command or argument 'bogus'.")]
    [InlineData(new[] { "crypto", "sign", "--typed-data", "x.json" }, "smartcity crypto sign: Option '--key' is required.")]
    [InlineData(new[] { "receipt", "verify", "--file" }, "smartcity receipt verify: Required argument missing for option: '--file'.")]
    public async Task Parse_errors_are_one_line_on_stderr_with_exit_code_2_and_nothing_on_stdout(string[] args, string expected)
    {
        var (code, output, error) = await RunAsync(CliRoot.Create(), args);

        Assert.Equal((2, "", expected + Environment.NewLine), (code, output, error));
    }

    [Theory]
    [InlineData(new[] { "--help" }, @"\n  receipt +Offline receipts")]
    [InlineData(new[] { "receipt", "verify", "--help" }, @"--genesis <GENESIS\.json> \(REQUIRED\)")]
    [InlineData(new[] { "keys" }, @"\n  hsm-new +Create a secp256k1 key on a PKCS#11 token; print its address")]
    public async Task Help_goes_to_stdout_with_exit_code_0(string[] args, string expectedPattern)
    {
        var (code, output, error) = await RunAsync(CliRoot.Create(), args);

        Assert.Equal((0, ""), (code, error));
        Assert.Matches(expectedPattern, output);
    }

    [Fact]
    public async Task Completions_are_offered_for_commands()
    {
        var (code, output, _) = await RunAsync(CliRoot.Create(), ["[suggest:4]", "cryp"]);

        Assert.Equal((0, "crypto"), (code, output.Trim()));
    }

    [Fact]
    public async Task An_unexpected_failure_is_one_line_with_exit_code_2()
    {
        var (code, output, error) = await RunAsync(Failing(), ["explode"]);

        Assert.Equal((2, ""), (code, output));
        Assert.Equal("smartcity explode: InvalidOperationException: the disk caught fire on line one and line two (run with --verbose for the stack trace)" + Environment.NewLine, error);
    }

    [Fact]
    public async Task An_unexpected_failure_with_verbose_prints_the_line_and_then_the_stack_trace()
    {
        var (code, _, error) = await RunAsync(Failing(), ["explode", "--verbose"]);

        Assert.Equal(2, code);
        Assert.StartsWith("smartcity explode: InvalidOperationException: the disk caught fire on line one and line two" + Environment.NewLine, error, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: the disk caught fire", error, StringComparison.Ordinal);
        Assert.Contains(" at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_outside_any_handler_is_caught_by_the_top_level_handler_too()
    {
        var root = new RootCommand("test") { CliRoot.Verbose };
        var raw = new Command("raw");
        raw.SetAction((_, _) => Task.FromException<int>(new IOException("No space left on device")));
        root.Add(raw);

        var (code, output, error) = await RunAsync(root, ["raw"]);

        Assert.Equal((2, "", "smartcity raw: IOException: No space left on device (run with --verbose for the stack trace)" + Environment.NewLine), (code, output, error));
    }

    [Fact]
    public async Task A_usage_exception_from_a_handler_is_one_line_with_exit_code_2()
    {
        var root = new RootCommand("test") { CliRoot.Verbose };
        root.Add(new Command("check").Handles((_, _) => throw new CliUsageException("--file: cannot read 'x'\nsecond line")));

        var (code, output, error) = await RunAsync(root, ["check"]);

        Assert.Equal((2, "", "smartcity check: --file: cannot read 'x' second line" + Environment.NewLine), (code, output, error));
    }

    [Fact]
    public async Task Cancellation_by_ctrl_c_ends_with_exit_code_130()
    {
        var root = new RootCommand("test") { CliRoot.Verbose };
        root.Add(new Command("wait").Handles(async (_, token) =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return ExitCodes.Success;
        }));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await CommandLine.RunAsync(root, ["wait"], output, error, cancellation.Token);

        Assert.Equal((130, "smartcity wait: interrupted"), (code, error.ToString().Trim()));
    }

    private static RootCommand Failing()
    {
        var root = new RootCommand("test") { CliRoot.Verbose };
        root.Add(new Command("explode").Handles((_, _) => throw new InvalidOperationException("the disk caught fire\non line one and line two")));
        return root;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(RootCommand root, string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(root, args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
