using System.Text;

namespace SmartCity.Ledger.Keys.Tests;

/// <summary>A temporary directory of key, password and PIN files for one test, deleted on dispose.</summary>
internal sealed class KeyFiles : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("smartcity-keys-").FullName;

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Writes a file with the given mode (0600 unless told otherwise) and returns its path.</summary>
    public string Write(string name, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = PathOf(name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        File.SetUnixFileMode(path, mode);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
