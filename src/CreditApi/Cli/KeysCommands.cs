using System.CommandLine;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Cli;

/// <summary>
/// `smartcity keys new [--out FILE]`: a fresh secp256k1 key. With --out the key file (JSON: address and hex private
/// key) is created with mode 0600 and never overwritten, and the address is printed; without it the JSON goes to
/// stdout.
/// </summary>
internal sealed class KeysCommands : ICliCommandGroup
{
    private static readonly Option<string> Out = new("--out")
    {
        Description = "Write the key file here (mode 0600, never overwritten) and print only the address",
        HelpName = "FILE",
    };

    public Command Create() => new Command("keys", "Member and validator keys (secp256k1, Ethereum addresses)")
    {
        new Command("new", "Create a new key; print its address") { Out }.Handles(NewAsync),
    }.ShowsHelp();

    private static async Task<int> NewAsync(CliContext context, CancellationToken cancellationToken)
    {
        var outPath = context.Value(Out);
        var privateKey = new byte[32];
        Secp256k1.GeneratePrivateKey(privateKey);
        var address = Secp256k1.Default.GetAddress(privateKey);
        var json = KeyFile.Serialize(address, privateKey);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(privateKey);

        if (outPath is null)
        {
            await context.Output.WriteLineAsync(json).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var stream = new FileStream(outPath, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json + "\n"), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--out: cannot create '{outPath}' (an existing key file is never overwritten): {e.Message}");
        }

        await context.Output.WriteLineAsync(address.ToString()).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
