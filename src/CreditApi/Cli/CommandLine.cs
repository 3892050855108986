using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// Runs <c>smartcity</c> on System.CommandLine with the tool's exit-code contract (<see cref="ExitCodes"/>), as the
/// one top-level handler of every command: a parse error (unknown command or option, missing or malformed value), a
/// handler's <see cref="CliUsageException"/> and any other exception are all one line on stderr and exit code 2 (an
/// unexpected exception's stack trace only with <c>--verbose</c>); Ctrl+C is exit code 130. Help and completions
/// (<c>[suggest]</c>) come from System.CommandLine.
/// </summary>
public static class CommandLine
{
    /// <summary>The name the command path starts with in messages, whatever the host executable is called.</summary>
    public const string ToolName = "smartcity";

    public static async Task<int> RunAsync(RootCommand root, IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(error);
        ParseResult parse;
        try
        {
            parse = root.Parse(args);
        }
        catch (Exception e)
        {
            // A parser or validator that throws is a bug, and still one line and exit code 2.
            await error.WriteLineAsync($"{ToolName}: {Describe(e)}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

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
        var path = PathOf(parse.CommandResult);
        try
        {
            return await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (CliUsageException e)
        {
            await error.WriteLineAsync($"{path}: {OneLine(e.Message)}").ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"{path}: interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (!IsVerbose(parse))
        {
            await error.WriteLineAsync($"{path}: {Describe(e)} (run with --verbose for the stack trace)").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The one place a stack trace is printed, because --verbose asked for it: the usual line, then the trace.
            await error.WriteLineAsync($"{path}: {Describe(e)}").ConfigureAwait(false);
            await error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
        }

        return ExitCodes.BadInput;
    }

    /// <summary>An exception nobody turned into a usage message: its type and message, and its inner exception's.</summary>
    private static string Describe(Exception e)
        => e.InnerException is { } inner && inner.Message != e.Message
            ? $"{e.GetType().Name}: {OneLine(e.Message)} ({inner.GetType().Name}: {OneLine(inner.Message)})"
            : $"{e.GetType().Name}: {OneLine(e.Message)}";

    private static bool IsVerbose(ParseResult parse)
        => parse.GetResult(CliRoot.Verbose) is { } verbose && verbose.GetValueOrDefault<bool>();

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
