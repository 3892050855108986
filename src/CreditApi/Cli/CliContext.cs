using System.CommandLine;
using Spectre.Console;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// What a command handler gets: its parsed options, where to write (plain lines on <see cref="Output"/>, tables and
/// progress through <see cref="Console"/>), and the command path for messages.
/// </summary>
public sealed class CliContext
{
    private const int RedirectedWidth = 200;
    private readonly Lazy<IAnsiConsole> _console;

    internal CliContext(ParseResult parseResult, TextWriter output, TextWriter error)
    {
        ParseResult = parseResult;
        Output = output;
        Error = error;
        CommandPath = CommandLine.PathOf(parseResult.CommandResult);
        _console = new Lazy<IAnsiConsole>(() => CreateConsole(output));
    }

    public ParseResult ParseResult { get; }

    /// <summary>e.g. <c>smartcity receipt verify</c>.</summary>
    public string CommandPath { get; }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    /// <summary>Spectre.Console over <see cref="Output"/>: colours and live progress on a terminal, plain text when redirected.</summary>
    public IAnsiConsole Console => _console.Value;

    /// <summary>Whether <c>--verbose</c> was given (stack traces of unexpected failures).</summary>
    public bool Verbose => ParseResult.GetValue(CliRoot.Verbose);

    /// <summary>The option's value, or its default when it was not given.</summary>
    public T? Value<T>(Option<T> option) => ParseResult.GetValue(option);

    /// <summary>The value of an option marked <c>Required</c> (the parser has already refused its absence).</summary>
    public T Required<T>(Option<T> option) => ParseResult.GetRequiredValue(option);

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        var terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = RedirectedWidth;
        }

        return console;
    }
}
