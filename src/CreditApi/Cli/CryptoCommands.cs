using System.CommandLine;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// `smartcity crypto …`: EIP-712 digests, signing and signer recovery for eth_signTypedData_v4 documents. These are
/// Ethereum wallet formats, so the commands work in the eth suite only: a gm key is refused (a gm chain's members sign
/// transactions with `smartcity submit` or the library, which hash in SM3 and sign with SM2; docs/crypto.md).
/// </summary>
internal sealed class CryptoCommands : ICliCommandGroup
{
    private static readonly Option<string> TypedData = new("--typed-data")
    {
        Description = "An eth_signTypedData_v4 JSON document",
        HelpName = "FILE",
        Required = true,
    };

    private static readonly Option<string> Key = new("--key")
    {
        Description = "A keystore made by 'smartcity keys new' (a clear-text key only with --insecure-plaintext)",
        HelpName = "FILE",
        Required = true,
    };

    private static readonly Option<string> PasswordFile = new("--password-file") { Description = "The keystore password: first line of this file (mode 0600)", HelpName = "FILE" };

    private static readonly Option<string> PasswordEnv = new("--password-env") { Description = "The keystore password: this environment variable", HelpName = "VAR" };

    private static readonly Option<bool> InsecurePlaintext = new("--insecure-plaintext") { Description = "Accept a CLEAR-TEXT key file (development only)" };

    private static readonly Option<string> SignatureOption = new("--signature")
    {
        Description = "The 65-byte signature r‖s‖v as 0x and 130 hex digits",
        HelpName = "0x…",
        Required = true,
    };

    public Command Create() => new Command("crypto", "EIP-712 typed data: digest, sign, recover")
    {
        new Command("eip712-digest", "Print the EIP-712 digest of a typed-data JSON file") { TypedData }.Handles(DigestAsync),
        new Command("sign", "Sign a typed-data JSON file; print the 65-byte signature") { TypedData, Key, PasswordFile, PasswordEnv, InsecurePlaintext }.Handles(SignAsync),
        new Command("recover", "Print the checksummed address that signed a typed-data JSON file") { TypedData, SignatureOption }.Handles(RecoverAsync),
    }.ShowsHelp();

    private static async Task<int> DigestAsync(CliContext context, CancellationToken cancellationToken)
    {
        var digest = await ReadDigestAsync(context, cancellationToken).ConfigureAwait(false);
        await context.Output.WriteLineAsync(digest.ToString()).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> SignAsync(CliContext context, CancellationToken cancellationToken)
    {
        var digest = await ReadDigestAsync(context, cancellationToken).ConfigureAwait(false);
        using var signer = KeysCommands.OpenSigner(context, context.Required(Key), PasswordFile, PasswordEnv, InsecurePlaintext, CryptoSuite.Eth.Signatures);
        await context.Output.WriteLineAsync(signer.Sign(digest).ToString()).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<int> RecoverAsync(CliContext context, CancellationToken cancellationToken)
    {
        if (!Signature.TryParse(context.Required(SignatureOption), out var signature))
        {
            throw new CliUsageException("--signature: a signature is 0x and 130 hex digits (65 bytes r‖s‖v)");
        }

        var digest = await ReadDigestAsync(context, cancellationToken).ConfigureAwait(false);
        var check = CryptoSuite.Eth.Recover(digest, signature, out var signer);
        if (check != SignatureCheck.Ok)
        {
            throw new CliUsageException($"--signature: rejected ({Describe(check)})");
        }

        await context.Output.WriteLineAsync(signer.ToString()).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static async Task<Hash256> ReadDigestAsync(CliContext context, CancellationToken cancellationToken)
    {
        var json = await CliFiles.ReadTextAsync("typed-data", context.Required(TypedData), cancellationToken).ConfigureAwait(false);
        return Eip712TypedData.TryComputeDigest(json, out var digest, out var error)
            ? digest
            : throw new CliUsageException($"--typed-data: {error.Error}: {error.Message}");
    }

    private static string Describe(SignatureCheck check) => check switch
    {
        SignatureCheck.BadRecoveryId => "v must be 0, 1, 27 or 28",
        SignatureCheck.OutOfRange => "r and s must be in [1, n-1]",
        SignatureCheck.HighS => "s is above n/2; EIP-2 accepts only low-s signatures",
        SignatureCheck.Invalid => "no public key recovers from it",
        _ => check.ToString(),
    };
}
