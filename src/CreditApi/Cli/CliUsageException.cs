namespace SmartCity.CreditApi.Cli;

/// <summary>
/// Bad usage or bad input found while a command runs (an unreadable file, a malformed document): printed as one
/// line on stderr, prefixed with the command path, exit code 2. Parse-time errors take the same path without it.
/// </summary>
public sealed class CliUsageException(string message) : Exception(message);
