namespace SmartCity.Grpc.Tests.Infrastructure;

/// <summary>The checkout this test assembly was built from, found by walking up to SmartCity.Ledger.sln.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "SmartCity.Ledger.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No SmartCity.Ledger.sln above {AppContext.BaseDirectory}.");
    }
}
