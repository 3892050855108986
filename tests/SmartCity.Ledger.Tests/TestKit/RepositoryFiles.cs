namespace SmartCity.Ledger.Tests.TestKit;

/// <summary>Files committed in the repository (found by walking up to the directory holding contracts/).</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "contracts", "genesis")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("no contracts/genesis above " + AppContext.BaseDirectory);
    }
}
