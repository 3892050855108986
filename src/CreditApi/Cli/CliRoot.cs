using System.CommandLine;
using System.Reflection;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// A top-level group of <c>smartcity</c> commands (<c>keys</c>, <c>crypto</c>, <c>node</c>…). To add one, add a file
/// with a class that implements this interface and has a public parameterless constructor: <see cref="CliRoot"/>
/// finds it, so no shared list needs editing. Sub-commands of an existing group belong in that group's file.
/// </summary>
public interface ICliCommandGroup
{
    /// <summary>The group's command with its options, sub-commands and handlers (see <see cref="CliHandler.Handles"/>).</summary>
    Command Create();
}

/// <summary>The <c>smartcity</c> root command: every <see cref="ICliCommandGroup"/> of this assembly, in name order.</summary>
public static class CliRoot
{
    public const string Description = "SmartCity.Ledger: the 3+1 (Beijing, Tianjin, Hebei, Xiong'an) consortium credit ledger node and tools";

    /// <summary><c>--verbose</c>, on every command: stack traces of unexpected failures.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "Print the stack trace of an unexpected failure",
        Recursive = true,
    };

    public static RootCommand Create()
    {
        var root = new RootCommand(Description) { Verbose };
        foreach (var command in Groups().Select(g => g.Create()).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            root.Add(command);
        }

        root.ShowsHelp();
        return root;
    }

    internal static IEnumerable<ICliCommandGroup> Groups()
        => typeof(CliRoot).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ICliCommandGroup).IsAssignableFrom(t))
            .Select(t => (ICliCommandGroup)Activator.CreateInstance(t, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, null, null)!);
}
