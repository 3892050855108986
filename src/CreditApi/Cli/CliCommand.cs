namespace SmartCity.CreditApi.Cli;

/// <summary>
/// One node of the `smartcity` command tree: either a group of sub-commands (`keys`, `crypto`) or a leaf
/// with a handler (`keys new`). Exit codes follow one convention across the tool: 0 success,
/// 1 a negative verdict (for example INVALID), 2 bad input or usage.
/// </summary>
public sealed class CliCommand
{
    private readonly Func<CliInvocation, CancellationToken, Task<int>>? _handler;

    private CliCommand(string name, string summary, string? usage, Func<CliInvocation, CancellationToken, Task<int>>? handler, IReadOnlyList<CliCommand> children)
    {
        Name = name;
        Summary = summary;
        Usage = usage;
        _handler = handler;
        Children = children;
    }

    public string Name { get; }

    public string Summary { get; }

    /// <summary>Argument synopsis shown by `--help`, e.g. `--typed-data FILE [--out FILE]`.</summary>
    public string? Usage { get; }

    public IReadOnlyList<CliCommand> Children { get; }

    public static CliCommand Leaf(string name, string summary, string usage, Func<CliInvocation, CancellationToken, Task<int>> handler)
        => new(name, summary, usage, handler, []);

    public static CliCommand Group(string name, string summary, params CliCommand[] children)
        => new(name, summary, null, null, children);

    internal Task<int> InvokeAsync(CliInvocation invocation, CancellationToken cancellationToken)
        => _handler is null ? throw new InvalidOperationException($"'{Name}' is a group, not a command.") : _handler(invocation, cancellationToken);

    internal bool IsGroup => _handler is null;
}
