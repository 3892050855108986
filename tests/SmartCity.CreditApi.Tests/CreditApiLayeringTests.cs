using System.Text.RegularExpressions;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests;

/// <summary>
/// The folders of src/CreditApi depend one way: the command line on top, the demo and the host below it, the gRPC
/// services below the host, the node's own settings and state at the bottom. A reference against that direction
/// (a service reaching up into the command line, the demo into the CLI) fails here with the file that makes it.
/// </summary>
public sealed partial class CreditApiLayeringTests
{
    /// <summary>Folder → the folders its code may refer to (besides itself).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Cli"] = ["Demo", "Bench", "Hosting", "Node", "Client", "Auth"],
        ["Bench"] = ["Node", "Services"], // bench store measures the API's VerifyChain in process
        ["Client"] = ["Auth"],
        ["Auth"] = [],
        ["Demo"] = [],
        ["Hosting"] = ["Services", "Interceptors", "Health", "Node", "Peers"],
        ["Peers"] = ["Node", "Client"], // reconciliation reads peers through the signed API client
        ["Interceptors"] = ["Node"],
        ["Health"] = ["Node"],
        ["Services"] = ["Health", "Node", "Auth"],
        ["Node"] = [],
    };

    [Fact]
    public void Every_folder_refers_only_to_folders_below_it()
    {
        var source = RepositoryFiles.Combine("src", "CreditApi");
        var violations = new List<string>();
        foreach (var file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var relative = Path.GetRelativePath(source, file);
            var folder = relative.Split(Path.DirectorySeparatorChar)[0];
            if (folder == relative)
            {
                continue; // Program.cs: the entry point may use anything.
            }

            Assert.True(Allowed.ContainsKey(folder), $"src/CreditApi/{folder} is a new folder: give it a place in {nameof(Allowed)}");
            foreach (Match reference in ReferenceToFolder().Matches(File.ReadAllText(file)))
            {
                var target = reference.Groups["folder"].Value;
                if (target != folder && !Allowed[folder].Contains(target))
                {
                    violations.Add($"{relative} refers to SmartCity.CreditApi.{target}");
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void The_allowed_references_have_no_cycle()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();

        void Visit(string folder, string path)
        {
            Assert.False(visiting.Contains(folder), $"cycle: {path}");
            if (!done.Add(folder))
            {
                return;
            }

            visiting.Add(folder);
            foreach (var next in Allowed.GetValueOrDefault(folder, []))
            {
                Visit(next, $"{path} -> {next}");
            }

            visiting.Remove(folder);
        }

        foreach (var folder in Allowed.Keys)
        {
            Visit(folder, folder);
        }
    }

    // Names in code (usings, qualified names), not in string literals such as a meter name.
    [GeneratedRegex(@"(?<!"")SmartCity\.CreditApi\.(?<folder>[A-Z][A-Za-z]*)")]
    private static partial Regex ReferenceToFolder();
}
