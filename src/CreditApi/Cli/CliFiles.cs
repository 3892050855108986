namespace SmartCity.CreditApi.Cli;

/// <summary>Reading the files a command names, with failures as one usage line.</summary>
internal static class CliFiles
{
    public static async Task<string> ReadTextAsync(string option, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"--{option}: cannot read '{path}': {e.Message}");
        }
    }
}
