using System.Security.Cryptography;
using System.Text;

namespace SmartCity.Ledger.Keys;

/// <summary>Asks a person for a password or PIN without echoing it.</summary>
public interface ISecretPrompt
{
    /// <summary>The UTF-8 bytes typed (the caller zeroes them), or null when there is no one to ask (no terminal).</summary>
    byte[]? ReadSecret(string prompt);
}

/// <summary>Prompts on the console (stderr), reading keys without echo; null when stdin is not a terminal.</summary>
public sealed class ConsoleSecretPrompt : ISecretPrompt
{
    public static ConsoleSecretPrompt Instance { get; } = new();

    public byte[]? ReadSecret(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        Console.Error.Write(prompt);
        var typed = new char[256];
        var length = 0;
        try
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                {
                    break;
                }

                if (key.Key == ConsoleKey.Backspace)
                {
                    length = Math.Max(0, length - 1);
                }
                else if (key.KeyChar != '\0' && length < typed.Length)
                {
                    typed[length++] = key.KeyChar;
                }
            }

            Console.Error.WriteLine();
            return Encoding.UTF8.GetBytes(typed, 0, length);
        }
        finally
        {
            Array.Clear(typed);
        }
    }
}

/// <summary>Resolves a <see cref="SecretSourceOptions"/> to the secret's bytes (files mode-checked, never logged).</summary>
public static class KeySecrets
{
    /// <summary>
    /// The secret as UTF-8 bytes the caller zeroes; <paramref name="what"/> names it in messages and the prompt
    /// ("keystore password"). Failures are <see cref="KeySourceException"/>s.
    /// </summary>
    public static byte[] Read(SecretSourceOptions source, string what, ISecretPrompt? prompt = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(what);
        if (!string.IsNullOrWhiteSpace(source.File))
        {
            return SecretFiles.ReadSecretLine(source.File, $"{what} file");
        }

        if (!string.IsNullOrWhiteSpace(source.Environment))
        {
            var value = System.Environment.GetEnvironmentVariable(source.Environment);
            return string.IsNullOrEmpty(value)
                ? throw new KeySourceException(KeySourceErrorCode.SecretUnavailable, $"the environment variable {source.Environment} that should hold the {what} is not set")
                : Encoding.UTF8.GetBytes(value);
        }

        if (source.Prompt)
        {
            var typed = (prompt ?? ConsoleSecretPrompt.Instance).ReadSecret($"{char.ToUpperInvariant(what[0])}{what[1..]}: ");
            if (typed is null)
            {
                throw new KeySourceException(KeySourceErrorCode.SecretUnavailable, $"the {what} is to be typed, but there is no terminal to ask on; use a file or an environment variable");
            }

            if (typed.Length == 0)
            {
                CryptographicOperations.ZeroMemory(typed);
                throw new KeySourceException(KeySourceErrorCode.SecretUnavailable, $"no {what} was typed");
            }

            return typed;
        }

        throw new KeySourceException(KeySourceOptions.Invalid($"the {what} has no source (File, Environment or Prompt)"));
    }
}
