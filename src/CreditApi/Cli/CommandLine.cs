using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// Runs <c>smartcity</c> on System.CommandLine with the tool's exit-code contract (<see cref="ExitCodes"/>): a parse
/// error (unknown command or option, missing or malformed value) is one line on stderr and exit code 2; a handler's
/// <see cref="CliUsageException"/> likewise; any other exception is one line and exit code 3 (the stack trace only
/// with <c>--verbose</c>). Help and completions (<c>[suggest]</c>) come from System.CommandLine.
/// </summary>
public static class CommandLine
{
    /// <summary>The name the command path starts with in messages, whatever the host executable is called.</summary>
    public const string ToolName = "smartcity";

    public static async Task<int> RunAsync(RootCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            await error.WriteLineAsync($"{PathOf(parse.CommandResult)}: {OneLine(parse.Errors[0].Message)}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Exceptions are turned into exit codes by CliHandler; signals are the caller's (Program.cs, the node host).
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>`smartcity keys new` for the command a parse ended on.</summary>
    internal static string PathOf(CommandResult? command)
    {
        var names = new List<string>();
        for (var result = command; result is not null; result = result.Parent as CommandResult)
        {
            names.Add(result.Parent is null ? ToolName : result.Command.Name);
        }

        names.Reverse();
        return names.Count == 0 ? ToolName : string.Join(' ', names);
    }

    /// <summary>A message folded onto one line, so the one-line-on-stderr contract holds whatever the exception said.</summary>
    internal static string OneLine(string message)
        => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
