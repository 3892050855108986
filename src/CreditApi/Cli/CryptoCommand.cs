using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;

namespace SmartCity.CreditApi.Cli;

/// <summary>`smartcity crypto …`: EIP-712 digests, signing and signer recovery for eth_signTypedData_v4 documents.</summary>
internal static class CryptoCommand
{
    public static CliCommand Create() => CliCommand.Group(
        "crypto",
        "EIP-712 typed data: digest, sign, recover",
        CliCommand.Leaf("eip712-digest", "Print the EIP-712 digest of a typed-data JSON file", "--typed-data FILE", DigestAsync),
        CliCommand.Leaf("sign", "Sign a typed-data JSON file; print the 65-byte signature", "--typed-data FILE --key FILE [--password-file F | --password-env VAR] [--insecure-plaintext]", SignAsync),
        CliCommand.Leaf("recover", "Print the checksummed address that signed a typed-data JSON file", "--typed-data FILE --signature 0x…", RecoverAsync));

    private static async Task<int> DigestAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("typed-data");
        var digest = await ReadDigestAsync(invocation, cancellationToken).ConfigureAwait(false);
        await invocation.Output.WriteLineAsync(digest.ToString()).ConfigureAwait(false);
        return CommandLine.Success;
    }

    private static async Task<int> SignAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("typed-data", "key", "password-file", "password-env", "insecure-plaintext");
        var keyPath = invocation.Required("key");
        var digest = await ReadDigestAsync(invocation, cancellationToken).ConfigureAwait(false);
        using var signer = KeysCommand.OpenSigner(invocation, keyPath);
        await invocation.Output.WriteLineAsync(signer.Sign(digest).ToString()).ConfigureAwait(false);
        return CommandLine.Success;
    }

    private static async Task<int> RecoverAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        invocation.RejectUnknown("typed-data", "signature");
        var text = invocation.Required("signature");
        if (!Signature.TryParse(text, out var signature))
        {
            throw new CliUsageException("--signature: a signature is 0x and 130 hex digits (65 bytes r‖s‖v)");
        }

        var digest = await ReadDigestAsync(invocation, cancellationToken).ConfigureAwait(false);
        var check = Secp256k1.Default.Recover(digest, signature, out var signer);
        if (check != SignatureCheck.Ok)
        {
            throw new CliUsageException($"--signature: rejected ({Describe(check)})");
        }

        await invocation.Output.WriteLineAsync(signer.ToString()).ConfigureAwait(false);
        return CommandLine.Success;
    }

    private static async Task<Hash256> ReadDigestAsync(CliInvocation invocation, CancellationToken cancellationToken)
    {
        var path = invocation.Required("typed-data");
        var json = await CliFiles.ReadTextAsync("typed-data", path, cancellationToken).ConfigureAwait(false);
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
