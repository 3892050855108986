using System.Diagnostics;
using System.Text;
using System.Text.Json;
using SmartCity.Ledger.Crypto;
using SmartCity.Testing;

namespace SmartCity.Ledger.Keys.Tests;

/// <summary>
/// ethers (npm, tests/interop/node_modules) decrypts keystores we wrote and we decrypt keystores ethers wrote, through
/// tests/interop/keystore/keystore.js run by Node; the password travels in an environment variable.
/// </summary>
public sealed class EthersKeystoreInteropTests : IDisposable
{
    private const string Password = "interop password";
    private readonly KeyFiles _files = new();

    public void Dispose() => _files.Dispose();

    [EthersFact]
    public async Task Ethers_decrypts_our_keystore_to_the_same_address()
    {
        var path = _files.PathOf("ours.json");
        using var key = KeyMaterial.Generate();
        KeystoreFile.Write(path, key, Encoding.UTF8.GetBytes(Password), ScryptParameters.Light);

        var result = await RunAsync("decrypt", path, Password);

        Assert.Equal(key.Address, Address.Parse(result.GetProperty("address").GetString()!));
    }

    [EthersFact]
    public async Task We_decrypt_a_keystore_ethers_wrote_to_the_same_address()
    {
        var path = _files.PathOf("theirs.json");
        var result = await RunAsync("encrypt", path, Password, scryptN: 1 << 12);

        using var signer = KeySource.OpenSigner(new KeySourceOptions
        {
            Keystore = new KeystoreKeyOptions { Path = path, Password = new SecretSourceOptions { File = _files.Write("password", Password) } },
        });

        Assert.Equal(Address.Parse(result.GetProperty("address").GetString()!), signer.Address);
    }

    [EthersFact]
    public async Task Ethers_refuses_our_keystore_with_a_wrong_password()
    {
        var path = _files.PathOf("ours.json");
        using var key = KeyMaterial.Generate();
        KeystoreFile.Write(path, key, Encoding.UTF8.GetBytes(Password), ScryptParameters.Light);

        var (exitCode, _, error) = await RunRawAsync("decrypt", path, "wrong password", null);

        Assert.Equal(1, exitCode);
        Assert.Contains("incorrect password", error, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<JsonElement> RunAsync(string command, string path, string password, int? scryptN = null)
    {
        var (exitCode, output, error) = await RunRawAsync(command, path, password, scryptN);
        Assert.True(exitCode == 0, $"keystore.js {command} exited {exitCode}: {error}");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunRawAsync(string command, string path, string password, int? scryptN)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepositoryFiles.Root };
        start.ArgumentList.Add(RepositoryFiles.Combine("tests", "interop", "keystore", "keystore.js"));
        start.ArgumentList.Add(command);
        start.ArgumentList.Add(path);
        start.Environment["KEYSTORE_PASSWORD"] = password;
        if (scryptN is { } n)
        {
            start.Environment["KEYSTORE_SCRYPT_N"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"keystore.js {command} did not finish within 120 s");
        }

        return (process.ExitCode, await output, await error);
    }
}

/// <summary>A fact that needs Node and ethers: skipped outside CI when they are missing, failing on CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EthersFactAttribute : FactAttribute
{
    public EthersFactAttribute()
    {
        var ethers = RepositoryFiles.Combine("tests", "interop", "node_modules", "ethers");
        if (!Directory.Exists(ethers) && !PostgresFixture.IsCi)
        {
            Skip = $"{ethers} is missing (scripts/test.sh runs npm ci in tests/interop)";
        }
    }
}
