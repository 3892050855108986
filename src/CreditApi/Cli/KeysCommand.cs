using System.Globalization;
using System.Security.Cryptography;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Keys.Pkcs11;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// `smartcity keys …`: member and validator keys at rest. Keys are written as encrypted Web3 Secret Storage keystores
/// (geth's standard scrypt parameters) unless `--insecure-plaintext` asks for clear text; passwords and PINs come from
/// a file (mode 0600), an environment variable, or a prompt, never from the command line; `hsm-new` creates a key on
/// a PKCS#11 token. Every failure is one line on stderr and exit code 2 (docs/keys.md).
/// All `keys` commands and the shared key options live in this one file so they port as one piece to the
/// System.CommandLine tree of the `packages` branch.
/// </summary>
internal static class KeysCommand
{
    private const string PlaintextWarning = "warning: this key is in CLEAR TEXT: anyone who can read the file can sign as its owner. Development only; keep keys in a keystore or an HSM.";

    public static CliCommand Create() => CliCommand.Group(
        "keys",
        "Member and validator keys (secp256k1, Ethereum addresses): keystores, import/export, PKCS#11",
        CliCommand.Leaf("new", "Create a key in a new encrypted keystore; print its address",
            "--out FILE [--password-file F | --password-env VAR] [--scrypt-n N] | --insecure-plaintext [--out FILE]", NewAsync),
        CliCommand.Leaf("import", "Encrypt a key from another keystore (or, with --insecure-plaintext, a clear-text key) into a new keystore",
            "--from FILE --out FILE [--from-password-file F | --from-password-env VAR] [--password-file F | --password-env VAR] [--scrypt-n N] [--insecure-plaintext]", ImportAsync),
        CliCommand.Leaf("export", "Re-encrypt a keystore under a new password (or, with --insecure-plaintext, write the key in clear text)",
            "--keystore FILE --out FILE [--password-file F | --password-env VAR] [--to-password-file F | --to-password-env VAR] [--scrypt-n N] [--insecure-plaintext]", ExportAsync),
        CliCommand.Leaf("hsm-new", "Create a secp256k1 key on a PKCS#11 token; print its address",
            "--module LIB (--token LABEL | --slot N) --label LABEL [--pin-file F | --pin-env VAR]", HsmNewAsync));

    /// <summary>
    /// The signer a command names with `--key FILE` (a keystore; a clear-text key only with `--insecure-plaintext`) and
    /// `--password-file` / `--password-env` (else a prompt).
    /// </summary>
    public static KeySigner OpenSigner(CliInvocation invocation, string keyPath)
    {
        RejectPasswordArgument(invocation);
        var insecure = invocation.Has("insecure-plaintext");
        var options = LooksLikeKeystore(keyPath) || !insecure
            ? new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = keyPath, Password = Secret(invocation, "password") } }
            : new KeySourceOptions { Plaintext = new PlaintextKeyOptions { Path = keyPath }, InsecurePlaintext = true };
        if (options.Plaintext is not null)
        {
            invocation.Error.WriteLine(PlaintextWarning);
        }
        else if (!LooksLikeKeystore(keyPath) && File.Exists(keyPath))
        {
            throw new CliUsageException($"--key: '{keyPath}' is a clear-text key, which is read only with --insecure-plaintext (development); encrypt it with 'smartcity keys import'");
        }

        return Run(() => KeySource.OpenSigner(options));
    }

    private static async Task<int> NewAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        RejectPasswordArgument(invocation);
        invocation.RejectUnknown("out", "password-file", "password-env", "scrypt-n", "insecure-plaintext");
        var outPath = invocation.Optional("out");
        using var key = KeyMaterial.Generate();
        if (invocation.Has("insecure-plaintext"))
        {
            if (invocation.Has("password-file") || invocation.Has("password-env") || invocation.Has("scrypt-n"))
            {
                throw new CliUsageException("--insecure-plaintext writes no keystore, so it takes no password or scrypt option");
            }

            await invocation.Error.WriteLineAsync(PlaintextWarning).ConfigureAwait(false);
            if (outPath is null)
            {
                await invocation.Output.WriteLineAsync(PlaintextKeyFile.Format(key)).ConfigureAwait(false);
                return CommandLine.Success;
            }

            Run(() => PlaintextKeyFile.Write(outPath, key));
        }
        else
        {
            if (outPath is null)
            {
                throw new CliUsageException("missing --out FILE: the new keystore's path (a clear-text key to stdout needs --insecure-plaintext)");
            }

            var parameters = Scrypt(invocation);
            var password = NewPassword(invocation, "password");
            try
            {
                Run(() => KeystoreFile.Write(outPath, key, password, parameters));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(password);
            }
        }

        await invocation.Output.WriteLineAsync(key.Address.ToString()).ConfigureAwait(false);
        return CommandLine.Success;
    }

    private static async Task<int> ImportAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        RejectPasswordArgument(invocation);
        invocation.RejectUnknown("from", "out", "from-password-file", "from-password-env", "password-file", "password-env", "scrypt-n", "insecure-plaintext");
        var from = invocation.Required("from");
        var outPath = invocation.Required("out");
        var parameters = Scrypt(invocation);
        KeyMaterial key;
        if (LooksLikeKeystore(from))
        {
            var fromPassword = Run(() => ReadSecret(Secret(invocation, "from-password"), "password of the keystore to import"));
            try
            {
                key = Run(() => KeystoreFile.Read(from, fromPassword));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(fromPassword);
            }
        }
        else if (invocation.Has("insecure-plaintext"))
        {
            key = Run(() => PlaintextKeyFile.Read(from));
        }
        else
        {
            throw new CliUsageException($"--from: '{from}' is not a keystore; a clear-text key is read only with --insecure-plaintext");
        }

        using (key)
        {
            var password = NewPassword(invocation, "password");
            try
            {
                Run(() => KeystoreFile.Write(outPath, key, password, parameters));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(password);
            }

            if (!LooksLikeKeystore(from))
            {
                await invocation.Error.WriteLineAsync($"imported; now destroy the clear-text file '{from}' (e.g. shred -u)").ConfigureAwait(false);
            }

            await invocation.Output.WriteLineAsync(key.Address.ToString()).ConfigureAwait(false);
        }

        return CommandLine.Success;
    }

    private static async Task<int> ExportAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        RejectPasswordArgument(invocation);
        invocation.RejectUnknown("keystore", "out", "password-file", "password-env", "to-password-file", "to-password-env", "scrypt-n", "insecure-plaintext");
        var keystore = invocation.Required("keystore");
        var outPath = invocation.Required("out");
        var insecure = invocation.Has("insecure-plaintext");
        if (insecure && (invocation.Has("to-password-file") || invocation.Has("to-password-env") || invocation.Has("scrypt-n")))
        {
            throw new CliUsageException("--insecure-plaintext writes no keystore, so it takes no --to-password or scrypt option");
        }

        var parameters = insecure ? null : Scrypt(invocation);
        var password = Run(() => ReadSecret(Secret(invocation, "password"), "keystore password"));
        KeyMaterial key;
        try
        {
            key = Run(() => KeystoreFile.Read(keystore, password));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }

        using (key)
        {
            if (insecure)
            {
                await invocation.Error.WriteLineAsync(PlaintextWarning).ConfigureAwait(false);
                Run(() => PlaintextKeyFile.Write(outPath, key));
            }
            else
            {
                var newPassword = NewPassword(invocation, "to-password");
                try
                {
                    Run(() => KeystoreFile.Write(outPath, key, newPassword, parameters));
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(newPassword);
                }
            }

            await invocation.Output.WriteLineAsync(key.Address.ToString()).ConfigureAwait(false);
        }

        return CommandLine.Success;
    }

    private static async Task<int> HsmNewAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        if (invocation.Has("pin"))
        {
            throw new CliUsageException("--pin is not accepted: a PIN on the command line is visible to other users; use --pin-file, --pin-env or the prompt");
        }

        invocation.RejectUnknown("module", "token", "slot", "label", "pin-file", "pin-env");
        var options = new Pkcs11KeyOptions
        {
            Module = invocation.Required("module"),
            TokenLabel = invocation.Optional("token"),
            KeyLabel = invocation.Required("label"),
            Pin = Secret(invocation, "pin"),
        };
        if (invocation.Optional("slot") is { } slot)
        {
            options.Slot = ulong.TryParse(slot, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : throw new CliUsageException($"--slot must be a slot id (an unsigned integer), got '{slot}'");
        }

        if (new KeySourceOptions { Pkcs11 = options }.Validate() is { } invalid)
        {
            throw new CliUsageException(invalid.Message.Replace("Slot and TokenLabel", "--slot and --token", StringComparison.Ordinal));
        }

        var pin = Run(() => ReadSecret(options.Pin, "PIN"));
        try
        {
            var address = Run(() => Pkcs11KeyGenerator.Generate(options, pin));
            await invocation.Output.WriteLineAsync(address.ToString()).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }

        return CommandLine.Success;
    }

    /// <summary>The secret source `--{name}-file` / `--{name}-env` names, else a prompt.</summary>
    private static SecretSourceOptions Secret(CliInvocation invocation, string name)
    {
        var file = invocation.Optional($"{name}-file");
        var variable = invocation.Optional($"{name}-env");
        if (file is not null && variable is not null)
        {
            throw new CliUsageException($"give one of --{name}-file and --{name}-env");
        }

        return new SecretSourceOptions { File = file, Environment = variable, Prompt = file is null && variable is null };
    }

    /// <summary>A new password: from its file or variable, or typed twice at the prompt.</summary>
    private static byte[] NewPassword(CliInvocation invocation, string name)
    {
        var source = Secret(invocation, name);
        var password = Run(() => ReadSecret(source, "new keystore password"));
        if (source.Prompt)
        {
            var again = Run(() => ReadSecret(source, "new keystore password (again)"));
            var same = CryptographicOperations.FixedTimeEquals(password, again);
            CryptographicOperations.ZeroMemory(again);
            if (!same)
            {
                CryptographicOperations.ZeroMemory(password);
                throw new CliUsageException("the two passwords differ");
            }
        }

        return password;
    }

    private static byte[] ReadSecret(SecretSourceOptions source, string what) => KeySecrets.Read(source, what);

    private static ScryptParameters Scrypt(CliInvocation invocation)
    {
        var n = invocation.OptionalInt("scrypt-n", ScryptParameters.Standard.N);
        var parameters = ScryptParameters.Standard with { N = n };
        return parameters.Problem() is { } problem ? throw new CliUsageException($"--scrypt-n: {problem}") : parameters;
    }

    private static void RejectPasswordArgument(CliInvocation invocation)
    {
        foreach (var name in new[] { "password", "from-password", "to-password" })
        {
            if (invocation.Has(name))
            {
                throw new CliUsageException($"--{name} is not accepted: a password on the command line is visible to other users; use --{name}-file, --{name}-env or the prompt");
            }
        }
    }

    /// <summary>A keystore is a JSON object with a crypto (or ethers' Crypto) member; anything else is treated as clear text.</summary>
    private static bool LooksLikeKeystore(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            return text.TrimStart().StartsWith('{') && (text.Contains("\"crypto\"", StringComparison.Ordinal) || text.Contains("\"Crypto\"", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return true; // let the keystore reader report the file precisely
        }
    }

    private static T Run<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (KeySourceException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    private static void Run(Action action) => Run(() =>
    {
        action();
        return true;
    });
}
