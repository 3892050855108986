using System.CommandLine;
using System.Security.Cryptography;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys;
using SmartCity.Ledger.Keys.Pkcs11;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// `smartcity keys …`: member and validator keys at rest. Keys are written as encrypted Web3 Secret Storage keystores
/// (geth's standard scrypt parameters) unless `--insecure-plaintext` asks for clear text; passwords and PINs come from
/// a file (mode 0600), an environment variable, or a prompt, never from the command line; `hsm-new` creates a key on
/// a PKCS#11 token. Every failure is one line on stderr and exit code 2 (docs/keys.md).
/// </summary>
internal sealed class KeysCommands : ICliCommandGroup
{
    internal const string PlaintextWarning = "warning: this key is in CLEAR TEXT: anyone who can read the file can sign as its owner. Development only; keep keys in a keystore or an HSM.";

    private static readonly Option<string> Out = new("--out") { Description = "The file to create (mode 0600, never overwritten)", HelpName = "FILE" };
    private static readonly Option<string> OutRequired = new("--out") { Description = "The file to create (mode 0600, never overwritten)", HelpName = "FILE", Required = true };
    private static readonly Option<string> PasswordFile = new("--password-file") { Description = "The keystore password: the first line of this file (mode 0600)", HelpName = "FILE" };
    private static readonly Option<string> PasswordEnv = new("--password-env") { Description = "The keystore password: the value of this environment variable", HelpName = "VAR" };
    private static readonly Option<string> FromPasswordFile = new("--from-password-file") { Description = "The password of the keystore to import: first line of this file", HelpName = "FILE" };
    private static readonly Option<string> FromPasswordEnv = new("--from-password-env") { Description = "The password of the keystore to import: this environment variable", HelpName = "VAR" };
    private static readonly Option<string> ToPasswordFile = new("--to-password-file") { Description = "The new keystore's password: first line of this file", HelpName = "FILE" };
    private static readonly Option<string> ToPasswordEnv = new("--to-password-env") { Description = "The new keystore's password: this environment variable", HelpName = "VAR" };
    private static readonly Option<int?> ScryptN = new("--scrypt-n") { Description = "scrypt N for the new keystore (default 262144 = 2^18; lower only for development)", HelpName = "N" };
    private static readonly Option<bool> InsecurePlaintext = new("--insecure-plaintext") { Description = "Read or write a CLEAR-TEXT key (development only; prints a warning)" };
    private static readonly Option<string> From = new("--from") { Description = "A keystore (geth, ethers, MetaMask) or, with --insecure-plaintext, a clear-text key", HelpName = "FILE", Required = true };
    private static readonly Option<string> KeystoreOption = new("--keystore") { Description = "The keystore to export", HelpName = "FILE", Required = true };
    private static readonly Option<string> Module = new("--module") { Description = "The PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so", HelpName = "LIB", Required = true };
    private static readonly Option<string> Token = new("--token") { Description = "The token's label", HelpName = "LABEL" };
    private static readonly Option<ulong?> Slot = new("--slot") { Description = "The token's slot id (instead of --token)", HelpName = "N" };
    private static readonly Option<string> Label = new("--label") { Description = "The new key's CKA_LABEL", HelpName = "LABEL", Required = true };
    private static readonly Option<string> PinFile = new("--pin-file") { Description = "The user PIN: first line of this file (mode 0600)", HelpName = "FILE" };
    private static readonly Option<string> PinEnv = new("--pin-env") { Description = "The user PIN: this environment variable", HelpName = "VAR" };
    private static readonly Option<string> Crypto = new("--crypto") { Description = "The key's crypto suite: eth (secp256k1, the default) or gm (SM2); it must be the chain's (genesis \"crypto\")", HelpName = "eth|gm" };
    private static readonly Option<string> ShowKey = new("--key") { Description = "A keystore or clear-text key file", HelpName = "FILE", Required = true };

    // Accepted only to refuse them with the reason: a secret on the command line is visible to every user (ps).
    private static readonly Option<string>[] SecretArguments =
    [
        new("--password") { Hidden = true },
        new("--from-password") { Hidden = true },
        new("--to-password") { Hidden = true },
        new("--pin") { Hidden = true },
    ];

    public Command Create() => new Command("keys", "Member and validator keys (eth: secp256k1; gm: SM2): keystores, import/export, PKCS#11 (eth only)")
    {
        With(new Command("new", "Create a new key; print its address") { Out, PasswordFile, PasswordEnv, ScryptN, InsecurePlaintext, Crypto }).Handles(NewAsync),
        With(new Command("import", "Encrypt a key from another keystore (or a clear-text key) into a new keystore; print its address")
        {
            From, OutRequired, FromPasswordFile, FromPasswordEnv, PasswordFile, PasswordEnv, ScryptN, InsecurePlaintext, Crypto,
        }).Handles(ImportAsync),
        new Command("show", "Print a key file's suite and address (a keystore's stated ones: no password is asked)") { ShowKey, InsecurePlaintext }.Handles(ShowAsync),
        With(new Command("export", "Re-encrypt a keystore under a new password (or write it in clear text); print its address")
        {
            KeystoreOption, OutRequired, PasswordFile, PasswordEnv, ToPasswordFile, ToPasswordEnv, ScryptN, InsecurePlaintext,
        }).Handles(ExportAsync),
        With(new Command("hsm-new", "Create a secp256k1 key on a PKCS#11 token; print its address") { Module, Token, Slot, Label, PinFile, PinEnv, Crypto }).Handles(HsmNewAsync),
    }.ShowsHelp();

    /// <summary>
    /// The signer `--key FILE` names for another command: a keystore, or a clear-text key with `--insecure-plaintext`;
    /// with <paramref name="chainScheme"/> (the chain's suite) a key of the other suite is refused.
    /// </summary>
    internal static KeySigner OpenSigner(CliContext context, string keyPath, Option<string> passwordFile, Option<string> passwordEnv, Option<bool> insecurePlaintext, ISignatureScheme? chainScheme = null)
    {
        var keystore = LooksLikeKeystore(keyPath);
        if (!keystore && File.Exists(keyPath) && !context.Value(insecurePlaintext))
        {
            throw new CliUsageException($"--key: '{keyPath}' is a clear-text key, which is read only with --insecure-plaintext (development); encrypt it with 'smartcity keys import'");
        }

        KeySourceOptions options;
        if (keystore)
        {
            options = new KeySourceOptions { Keystore = new KeystoreKeyOptions { Path = keyPath, Password = Secret(context.Value(passwordFile), context.Value(passwordEnv), "password") } };
        }
        else
        {
            context.Error.WriteLine(PlaintextWarning);
            options = new KeySourceOptions { Plaintext = new PlaintextKeyOptions { Path = keyPath }, InsecurePlaintext = true };
        }

        return Run(() => KeySource.OpenSigner(options, chainScheme: chainScheme));
    }

    private static Command With(Command command)
    {
        foreach (var option in SecretArguments)
        {
            command.Options.Add(option);
        }

        return command;
    }

    private static async Task<int> NewAsync(CliContext context, CancellationToken cancellationToken)
    {
        RejectSecretArguments(context);
        var outPath = context.Value(Out);
        using var key = KeyMaterial.Generate(SuiteOption(context) ?? CryptoSuiteId.Eth);
        if (context.Value(InsecurePlaintext))
        {
            if (context.Value(PasswordFile) is not null || context.Value(PasswordEnv) is not null || context.Value(ScryptN) is not null)
            {
                throw new CliUsageException("--insecure-plaintext writes no keystore, so it takes no password or scrypt option");
            }

            await context.Error.WriteLineAsync(PlaintextWarning).ConfigureAwait(false);
            if (outPath is null)
            {
                await context.Output.WriteLineAsync(PlaintextKeyFile.Format(key)).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            Run(() => PlaintextKeyFile.Write(outPath, key));
        }
        else
        {
            if (outPath is null)
            {
                throw new CliUsageException("missing --out FILE: the new keystore's path (a clear-text key to stdout needs --insecure-plaintext)");
            }

            WriteKeystore(context, outPath, key, PasswordFile, PasswordEnv);
        }

        await context.Output.WriteLineAsync(key.Address.ToString()).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> ImportAsync(CliContext context, CancellationToken cancellationToken)
    {
        RejectSecretArguments(context);
        var from = context.Required(From);
        var outPath = context.Required(OutRequired);
        var keystore = LooksLikeKeystore(from);
        if (!keystore && !context.Value(InsecurePlaintext))
        {
            throw new CliUsageException($"--from: '{from}' is not a keystore; a clear-text key is read only with --insecure-plaintext");
        }

        var suite = SuiteOption(context);
        using var key = keystore
            ? ReadKeystore(from, Secret(context.Value(FromPasswordFile), context.Value(FromPasswordEnv), "from-password"), "password of the keystore to import")
            : Run(() => PlaintextKeyFile.Read(from, suite));
        if (suite is { } asked && key.Suite != asked)
        {
            throw new CliUsageException($"--crypto {asked.ToName()}: '{from}' holds a{(key.Suite == CryptoSuiteId.Gm ? " gm (SM2)" : "n eth (secp256k1)")} key ({key.Address}); a key cannot change suite (its address would change)");
        }

        WriteKeystore(context, outPath, key, PasswordFile, PasswordEnv);
        if (!keystore)
        {
            await context.Error.WriteLineAsync($"imported; now destroy the clear-text file '{from}' (e.g. shred -u)").ConfigureAwait(false);
        }

        await context.Output.WriteLineAsync(key.Address.ToString()).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> ExportAsync(CliContext context, CancellationToken cancellationToken)
    {
        RejectSecretArguments(context);
        var outPath = context.Required(OutRequired);
        var insecure = context.Value(InsecurePlaintext);
        if (insecure && (context.Value(ToPasswordFile) is not null || context.Value(ToPasswordEnv) is not null || context.Value(ScryptN) is not null))
        {
            throw new CliUsageException("--insecure-plaintext writes no keystore, so it takes no --to-password or scrypt option");
        }

        using var key = ReadKeystore(context.Required(KeystoreOption), Secret(context.Value(PasswordFile), context.Value(PasswordEnv), "password"), "keystore password");
        if (insecure)
        {
            await context.Error.WriteLineAsync(PlaintextWarning).ConfigureAwait(false);
            Run(() => PlaintextKeyFile.Write(outPath, key));
        }
        else
        {
            WriteKeystore(context, outPath, key, ToPasswordFile, ToPasswordEnv);
        }

        await context.Output.WriteLineAsync(key.Address.ToString()).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> ShowAsync(CliContext context, CancellationToken cancellationToken)
    {
        var path = context.Required(ShowKey);
        if (LooksLikeKeystore(path))
        {
            var (suite, stated, kdf) = Run(() => KeystoreFile.Describe(path));
            var address = stated ?? throw new CliUsageException($"keystore '{path}' states no address; 'smartcity keys export' with its password shows it");
            await context.Output.WriteLineAsync($"{suite.ToName()} {address} keystore ({kdf})").ConfigureAwait(false);
            return ExitCodes.Success;
        }

        if (!context.Value(InsecurePlaintext))
        {
            throw new CliUsageException($"--key: '{path}' is a clear-text key, which is read only with --insecure-plaintext (development); encrypt it with 'smartcity keys import'");
        }

        await context.Error.WriteLineAsync(PlaintextWarning).ConfigureAwait(false);
        using var key = Run(() => PlaintextKeyFile.Read(path));
        await context.Output.WriteLineAsync($"{key.Suite.ToName()} {key.Address} clear-text").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> HsmNewAsync(CliContext context, CancellationToken cancellationToken)
    {
        RejectSecretArguments(context);
        if (SuiteOption(context) is CryptoSuiteId.Gm)
        {
            throw new CliUsageException("--crypto gm: PKCS#11 defines no SM2 signature mechanism (SoftHSM2 offers only CKM_ECDSA), so a gm key cannot live on a PKCS#11 token; use 'smartcity keys new --crypto gm' (docs/keys.md, \"PKCS#11 and the gm suite\")");
        }

        var options = new Pkcs11KeyOptions
        {
            Module = context.Required(Module),
            TokenLabel = context.Value(Token),
            Slot = context.Value(Slot),
            KeyLabel = context.Required(Label),
            Pin = Secret(context.Value(PinFile), context.Value(PinEnv), "pin"),
        };
        if (new KeySourceOptions { Pkcs11 = options }.Validate() is { } invalid)
        {
            throw new CliUsageException(invalid.Message.Replace("Slot and TokenLabel", "--slot and --token", StringComparison.Ordinal));
        }

        var pin = Run(() => KeySecrets.Read(options.Pin, "PIN"));
        try
        {
            var address = Run(() => Pkcs11KeyGenerator.Generate(options, pin));
            await context.Output.WriteLineAsync(address.ToString()).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }

        return ExitCodes.Success;
    }

    private static KeyMaterial ReadKeystore(string path, SecretSourceOptions passwordSource, string what)
    {
        var password = Run(() => KeySecrets.Read(passwordSource, what));
        try
        {
            return Run(() => KeystoreFile.Read(path, password));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private static void WriteKeystore(CliContext context, string path, KeyMaterial key, Option<string> passwordFile, Option<string> passwordEnv)
    {
        var parameters = ScryptParameters.Standard with { N = context.Value(ScryptN) ?? ScryptParameters.Standard.N };
        if (parameters.Problem() is { } problem)
        {
            throw new CliUsageException($"--scrypt-n: {problem}");
        }

        var source = Secret(context.Value(passwordFile), context.Value(passwordEnv), passwordFile.Name.TrimStart('-').Replace("-file", "", StringComparison.Ordinal));
        var password = Run(() => KeySecrets.Read(source, "new keystore password"));
        try
        {
            if (source.Prompt)
            {
                var again = Run(() => KeySecrets.Read(source, "new keystore password (again)"));
                var same = CryptographicOperations.FixedTimeEquals(password, again);
                CryptographicOperations.ZeroMemory(again);
                if (!same)
                {
                    throw new CliUsageException("the two passwords differ");
                }
            }

            Run(() => KeystoreFile.Write(path, key, password, parameters));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    /// <summary>The suite `--crypto` names, or null when it is not given.</summary>
    private static CryptoSuiteId? SuiteOption(CliContext context)
        => context.Value(Crypto) switch
        {
            null => null,
            var text when CryptoSuiteNames.TryParse(text, out var suite) => suite,
            var text => throw new CliUsageException($"--crypto: '{text}' is neither eth (secp256k1) nor gm (SM2)"),
        };

    /// <summary>The secret source `--{name}-file` / `--{name}-env` names, else a prompt.</summary>
    private static SecretSourceOptions Secret(string? file, string? variable, string name)
        => file is not null && variable is not null
            ? throw new CliUsageException($"give one of --{name}-file and --{name}-env")
            : new SecretSourceOptions { File = file, Environment = variable, Prompt = file is null && variable is null };

    private static void RejectSecretArguments(CliContext context)
    {
        foreach (var option in SecretArguments)
        {
            if (context.ParseResult.GetResult(option) is not null)
            {
                var secret = option.Name == "--pin" ? "a PIN" : "a password";
                throw new CliUsageException($"{option.Name} is not accepted: {secret} on the command line is visible to other users; use {option.Name}-file, {option.Name}-env or the prompt");
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
            return true; // the keystore reader reports the file precisely
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
