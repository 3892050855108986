namespace SmartCity.CreditApi.Cli;

/// <summary>
/// The exit codes of every <c>smartcity</c> command. 0, 1 and 2 are the contract scripts rely on; 3 and 130 say the
/// command did not finish.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked (for a check: the verdict is VALID).</summary>
    public const int Success = 0;

    /// <summary>A check ran and its verdict is negative (INVALID), with the reason on stdout.</summary>
    public const int NegativeVerdict = 1;

    /// <summary>Bad usage or bad input: exactly one line on stderr, nothing changed.</summary>
    public const int BadInput = 2;

    /// <summary>An unexpected failure (a bug): one line on stderr, the stack trace with <c>--verbose</c>.</summary>
    public const int InternalError = 3;

    /// <summary>Interrupted by Ctrl+C before it finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
