namespace SmartCity.CreditApi.Cli;

/// <summary>
/// The exit codes of every <c>smartcity</c> command: 0, 1 and 2 are the contract scripts rely on (any failure,
/// expected or not, is 2 with one line on stderr); 130 says the command was interrupted.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked (for a check: the verdict is VALID).</summary>
    public const int Success = 0;

    /// <summary>A check ran and its verdict is negative (INVALID), with the reason on stdout.</summary>
    public const int NegativeVerdict = 1;

    /// <summary>
    /// Bad usage, bad input or any other failure: exactly one line on stderr (an unexpected failure's stack trace only
    /// with <c>--verbose</c>), nothing changed.
    /// </summary>
    public const int BadInput = 2;

    /// <summary>Interrupted by Ctrl+C before it finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
