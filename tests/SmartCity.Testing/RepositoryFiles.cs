namespace SmartCity.Testing;

/// <summary>Files of the checkout a test assembly was built from, found by walking up to SmartCity.Ledger.sln.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    /// <summary>An absolute path from a repository-relative one, e.g. <c>contracts/genesis/sample-genesis.json</c>.</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SmartCity.Ledger.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no SmartCity.Ledger.sln above {AppContext.BaseDirectory}");
    }
}
