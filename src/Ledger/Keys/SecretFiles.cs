using System.Security.Cryptography;
using System.Text;

namespace SmartCity.Ledger.Keys;

/// <summary>Reading key, password and PIN files: only files private to their owner, errors as values.</summary>
internal static class SecretFiles
{
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Refuses a file any group member or other user may read or write (as OpenSSH refuses an unprotected private
    /// key): mode 0600 or 0400 is expected. Does nothing on Windows, where Unix modes do not exist.
    /// </summary>
    public static void EnsurePrivate(string path, string what)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        UnixFileMode mode;
        try
        {
            mode = File.GetUnixFileMode(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Unreadable(path, what, e);
        }

        if ((mode & GroupOrOthers) != 0)
        {
            throw new KeySourceException(KeySourceErrorCode.PermissionsTooOpen,
                $"{what} '{path}' is accessible to its group or to others (mode {Octal(mode)}); it must be private to its owner: chmod 600 '{path}'");
        }
    }

    /// <summary>As <see cref="EnsurePrivate"/> for a file that exists; a missing one is reported when it is read.</summary>
    public static void EnsurePrivateIfExists(string path, string what)
    {
        if (File.Exists(path))
        {
            EnsurePrivate(path, what);
        }
    }

    /// <summary>Reads a private file whole, after checking its mode.</summary>
    public static byte[] ReadPrivate(string path, string what, int maxBytes = 1 << 20)
    {
        if (!File.Exists(path))
        {
            throw new KeySourceException(KeySourceErrorCode.FileUnreadable, $"{what} '{path}' does not exist");
        }

        EnsurePrivate(path, what);
        try
        {
            var info = new FileInfo(path);
            if (info.Length > maxBytes)
            {
                throw new KeySourceException(KeySourceErrorCode.FileUnreadable, $"{what} '{path}' is {info.Length} bytes; more than {maxBytes} is not a key file");
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Unreadable(path, what, e);
        }
    }

    /// <summary>
    /// The secret in a password or PIN file: its first line without the line ending (geth's convention, so one file
    /// serves both), as UTF-8 bytes the caller zeroes.
    /// </summary>
    public static byte[] ReadSecretLine(string path, string what)
    {
        var bytes = ReadPrivate(path, what, maxBytes: 64 * 1024);
        try
        {
            var end = bytes.AsSpan().IndexOfAny((byte)'\n', (byte)'\r');
            var line = end < 0 ? bytes.AsSpan() : bytes.AsSpan(0, end);
            if (line.IsEmpty)
            {
                throw new KeySourceException(KeySourceErrorCode.SecretUnavailable, $"{what} '{path}' is empty");
            }

            return line.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Creates a new file readable and writable by its owner only and writes <paramref name="content"/>; never overwrites.</summary>
    public static void WriteNewPrivate(string path, ReadOnlySpan<byte> content, string what)
    {
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null && !Directory.Exists(directory))
            {
                throw new KeySourceException(KeySourceErrorCode.FileNotWritable, $"{what} '{path}': the directory '{directory}' does not exist");
            }

            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var stream = new FileStream(path, options);
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new KeySourceException(KeySourceErrorCode.FileNotWritable,
                $"{what} '{path}' cannot be created (an existing key file is never overwritten): {e.Message}", e);
        }
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static KeySourceException Unreadable(string path, string what, Exception e)
        => new(KeySourceErrorCode.FileUnreadable, $"{what} '{path}' cannot be read: {e.Message}", e);

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}
