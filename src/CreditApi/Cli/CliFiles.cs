using System.Text;

namespace SmartCity.CreditApi.Cli;

/// <summary>Reading the files a command names, with failures as one usage line.</summary>
internal static class CliFiles
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a text (JSON) file as strict UTF-8: invalid bytes are bad input, never silently replaced.</summary>
    public static async Task<string> ReadTextAsync(string option, string path, CancellationToken cancellationToken)
    {
        var bytes = await ReadBytesAsync(option, path, cancellationToken).ConfigureAwait(false);
        try
        {
            var text = StrictUtf8.GetString(bytes);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException)
        {
            throw new CliUsageException($"--{option}: '{path}' is not UTF-8 text");
        }
    }

    public static async Task<byte[]> ReadBytesAsync(string option, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"--{option}: cannot read '{path}': {e.Message}");
        }
    }
}
