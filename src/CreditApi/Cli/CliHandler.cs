using System.CommandLine;

namespace SmartCity.CreditApi.Cli;

/// <summary>Attaches a handler to a command with the tool's exit-code contract.</summary>
public static class CliHandler
{
    /// <summary>
    /// Runs <paramref name="handler"/> when the command is invoked. <see cref="CliUsageException"/> becomes one line
    /// on stderr and exit code 2; cancellation by Ctrl+C exit code 130; anything else one line and exit code 3, with
    /// the stack trace when <c>--verbose</c> is given.
    /// </summary>
    public static TCommand Handles<TCommand>(this TCommand command, Func<CliContext, CancellationToken, Task<int>> handler)
        where TCommand : Command
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(handler);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, handler, cancellationToken));
        return command;
    }

    /// <summary>A group's own action: its help on stdout, exit code 0 (a sub-command it does not know is a parse error).</summary>
    public static Command ShowsHelp(this Command group)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.SetAction(parseResult => new System.CommandLine.Help.HelpAction().Invoke(parseResult));
        return group;
    }

    private static async Task<int> RunAsync(ParseResult parseResult, Func<CliContext, CancellationToken, Task<int>> handler, CancellationToken cancellationToken)
    {
        var invocation = parseResult.InvocationConfiguration;
        var context = new CliContext(parseResult, invocation.Output, invocation.Error);
        try
        {
            return await handler(context, cancellationToken).ConfigureAwait(false);
        }
        catch (CliUsageException e)
        {
            await context.Error.WriteLineAsync($"{context.CommandPath}: {CommandLine.OneLine(e.Message)}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync($"{context.CommandPath}: interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (!context.Verbose)
        {
            await context.Error.WriteLineAsync($"{context.CommandPath}: unexpected {e.GetType().Name}: {CommandLine.OneLine(e.Message)} (run with --verbose for the stack trace)").ConfigureAwait(false);
            return ExitCodes.InternalError;
        }
        catch (Exception e)
        {
            await context.Error.WriteLineAsync($"{context.CommandPath}: unexpected {e}").ConfigureAwait(false);
            return ExitCodes.InternalError;
        }
    }
}
