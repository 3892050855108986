using System.CommandLine;

namespace SmartCity.CreditApi.Cli;

/// <summary>Attaches a handler to a command with the tool's exit-code contract.</summary>
public static class CliHandler
{
    /// <summary>
    /// Runs <paramref name="handler"/> when the command is invoked. Whatever it throws reaches the one top-level
    /// handler, <see cref="CommandLine.RunAsync"/>: one line on stderr and exit code 2 (130 for Ctrl+C).
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

    private static Task<int> RunAsync(ParseResult parseResult, Func<CliContext, CancellationToken, Task<int>> handler, CancellationToken cancellationToken)
    {
        var invocation = parseResult.InvocationConfiguration;
        return handler(new CliContext(parseResult, invocation.Output, invocation.Error), cancellationToken);
    }
}
