using System.Text;
using System.Text.Json.Nodes;
using SmartCity.CreditApi.Cli;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys;
using SmartCity.Testing;

namespace SmartCity.CreditApi.Tests.Cli;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoftHsmCliCollection
{
    public const string Name = "SoftHSM CLI";
}

[Collection(SoftHsmCliCollection.Name)]
public sealed class KeysCommandTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-keys-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Keys_new_writes_a_private_encrypted_keystore_that_opens_with_its_password()
    {
        var keystore = PathOf("bj.json");
        var password = Write("password", "bj password\n");

        var (code, output, error) = await RunAsync("keys", "new", "--out", keystore, "--password-file", password, "--scrypt-n", "4096");

        Assert.Equal((0, ""), (code, error));
        var address = Address.Parse(output.Trim());
        Assert.Equal(Private, File.GetUnixFileMode(keystore));
        var json = JsonNode.Parse(await File.ReadAllTextAsync(keystore))!;
        Assert.Equal(3, (int)json["version"]!);
        Assert.Equal("scrypt", (string)json["crypto"]!["kdf"]!);
        Assert.Equal(4096, (int)json["crypto"]!["kdfparams"]!["n"]!);
        Assert.DoesNotContain("privateKey", json.ToJsonString(), StringComparison.Ordinal);
        using var signer = KeySource.OpenSigner(Keystore(keystore, password));
        Assert.Equal(address, signer.Address);
    }

    [Fact]
    public async Task Password_comes_from_the_environment_variable_named_by_password_env()
    {
        var variable = "SMARTCITY_TEST_CLI_PASSWORD_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "env password");
        try
        {
            var (code, output, _) = await RunAsync("keys", "new", "--out", PathOf("k.json"), "--password-env", variable, "--scrypt-n", "4096");
            Assert.Equal(0, code);
            using var signer = KeySource.OpenSigner(Keystore(PathOf("k.json"), Write("p", "env password")));
            Assert.Equal(Address.Parse(output.Trim()), signer.Address);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [InlineData("keys", "new", "--password")]
    [InlineData("keys", "import", "--from-password")]
    [InlineData("keys", "export", "--to-password")]
    public async Task A_password_on_the_command_line_is_refused(string group, string command, string option)
    {
        string[] required = command switch
        {
            "import" => ["--from", PathOf("old.json")],
            "export" => ["--keystore", PathOf("old.json")],
            _ => [],
        };
        var (code, _, error) = await RunAsync([group, command, option, "secret", "--out", PathOf("x.json"), .. required]);

        Assert.Equal(2, code);
        Assert.Equal($"smartcity {group} {command}: {option} is not accepted: a password on the command line is visible to other users; use {option}-file, {option}-env or the prompt", error.Trim());
        Assert.False(File.Exists(PathOf("x.json")));
    }

    [Fact]
    public async Task Without_a_password_source_or_a_terminal_nothing_is_written()
    {
        var (code, _, error) = await RunAsync("keys", "new", "--out", PathOf("k.json"), "--scrypt-n", "4096");

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("no terminal", error, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf("k.json")));
    }

    [Fact]
    public async Task Password_file_readable_by_others_is_refused()
    {
        var password = Write("password", "pw", Private | UnixFileMode.OtherRead);
        var (code, _, error) = await RunAsync("keys", "new", "--out", PathOf("k.json"), "--password-file", password, "--scrypt-n", "4096");

        Assert.Equal(2, code);
        Assert.Contains($"chmod 600 '{password}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Importing_a_clear_text_key_needs_insecure_plaintext_and_yields_a_keystore_of_the_same_address()
    {
        var clear = Write("dev.json", """{"address":"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf","privateKey":"0x0000000000000000000000000000000000000000000000000000000000000001"}""");
        var password = Write("password", "new password");

        var (refused, _, why) = await RunAsync("keys", "import", "--from", clear, "--out", PathOf("ks.json"), "--password-file", password, "--scrypt-n", "4096");
        Assert.Equal(2, refused);
        Assert.Contains("--insecure-plaintext", why, StringComparison.Ordinal);

        var (code, output, error) = await RunAsync("keys", "import", "--from", clear, "--out", PathOf("ks.json"), "--password-file", password, "--scrypt-n", "4096", "--insecure-plaintext");
        Assert.Equal((0, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"), (code, output.Trim()));
        Assert.Contains("destroy the clear-text file", error, StringComparison.Ordinal);
        using var signer = KeySource.OpenSigner(Keystore(PathOf("ks.json"), password));
        Assert.Equal(Address.Parse("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"), signer.Address);
    }

    [Fact]
    public async Task Importing_another_keystore_re_encrypts_it_under_the_new_password()
    {
        var oldPassword = Write("old", "old password");
        var newPassword = Write("new", "new password");
        var (_, address, _) = await RunAsync("keys", "new", "--out", PathOf("old.json"), "--password-file", oldPassword, "--scrypt-n", "4096");

        var (code, output, _) = await RunAsync("keys", "import", "--from", PathOf("old.json"), "--from-password-file", oldPassword,
            "--out", PathOf("new.json"), "--password-file", newPassword, "--scrypt-n", "8192");

        Assert.Equal((0, address.Trim()), (code, output.Trim()));
        using var signer = KeySource.OpenSigner(Keystore(PathOf("new.json"), newPassword));
        Assert.Equal(Address.Parse(address.Trim()), signer.Address);
        Assert.Equal(KeySourceErrorCode.WrongPassword, Assert.Throws<KeySourceException>(() => KeySource.OpenSigner(Keystore(PathOf("new.json"), oldPassword))).Code);
    }

    [Fact]
    public async Task Exporting_to_clear_text_needs_insecure_plaintext_warns_and_writes_a_private_file()
    {
        var password = Write("password", "pw");
        var (_, address, _) = await RunAsync("keys", "new", "--out", PathOf("ks.json"), "--password-file", password, "--scrypt-n", "4096");

        var (refused, _, _) = await RunAsync("keys", "export", "--keystore", PathOf("ks.json"), "--password-file", password, "--out", PathOf("clear.json"));
        Assert.Equal(2, refused);
        Assert.False(File.Exists(PathOf("clear.json")));

        var (code, output, error) = await RunAsync("keys", "export", "--keystore", PathOf("ks.json"), "--password-file", password, "--out", PathOf("clear.json"), "--insecure-plaintext");
        Assert.Equal((0, address.Trim()), (code, output.Trim()));
        Assert.StartsWith("warning: this key is in CLEAR TEXT", error, StringComparison.Ordinal);
        Assert.Equal(Private, File.GetUnixFileMode(PathOf("clear.json")));
        Assert.Contains("\"privateKey\":\"0x", await File.ReadAllTextAsync(PathOf("clear.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exporting_with_a_wrong_password_is_one_line_and_writes_nothing()
    {
        var (_, _, _) = await RunAsync("keys", "new", "--out", PathOf("ks.json"), "--password-file", Write("password", "pw"), "--scrypt-n", "4096");

        var (code, output, error) = await RunAsync("keys", "export", "--keystore", PathOf("ks.json"), "--password-file", Write("wrong", "not pw"), "--out", PathOf("clear.json"), "--insecure-plaintext");

        Assert.Equal((2, ""), (code, output));
        Assert.Equal($"smartcity keys export: keystore '{PathOf("ks.json")}': wrong password (the keystore's MAC does not match)", error.Trim());
        Assert.False(File.Exists(PathOf("clear.json")));
    }

    [SoftHsmFact]
    public async Task Hsm_new_creates_a_key_on_the_token_and_prints_the_address_it_signs_as()
    {
        using var hsm = SoftHsm.Create();
        hsm.InitToken("xa-validator");
        var pin = Write("pin", SoftHsm.UserPin);

        var (code, output, error) = await RunAsync("keys", "hsm-new", "--module", SoftHsm.ModulePath, "--token", "xa-validator", "--label", "validator", "--pin-file", pin);

        Assert.Equal((0, ""), (code, error));
        var address = Address.Parse(output.Trim());
        using var signer = KeySource.OpenSigner(new KeySourceOptions
        {
            Pkcs11 = new Pkcs11KeyOptions { Module = SoftHsm.ModulePath, TokenLabel = "xa-validator", KeyLabel = "validator", Pin = new SecretSourceOptions { File = pin } },
        });
        Assert.Equal(address, signer.Address);
    }

    [SoftHsmFact]
    public async Task Hsm_new_with_a_wrong_pin_is_one_line_and_exit_code_2()
    {
        using var hsm = SoftHsm.Create();
        hsm.InitToken("xa-validator");

        var (code, _, error) = await RunAsync("keys", "hsm-new", "--module", SoftHsm.ModulePath, "--token", "xa-validator", "--label", "validator", "--pin-file", Write("pin", "11111111"));

        Assert.Equal(2, code);
        Assert.StartsWith("smartcity keys hsm-new: PKCS#11 token 'xa-validator': wrong PIN (CKR_PIN_INCORRECT)", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Keys_new_with_crypto_gm_writes_an_sm2_keystore_that_keys_show_names_and_that_signs_in_the_gm_suite()
    {
        var keystore = PathOf("gm.json");
        var password = Write("password", "gm password\n");

        var (code, output, error) = await RunAsync("keys", "new", "--crypto", "gm", "--out", keystore, "--password-file", password, "--scrypt-n", "4096");

        Assert.Equal((0, ""), (code, error));
        var address = Address.Parse(output.Trim());
        var json = JsonNode.Parse(await File.ReadAllTextAsync(keystore))!;
        Assert.Equal("gm", (string)json["suite"]!);
        Assert.Equal("sm4-ctr", (string)json["crypto"]!["cipher"]!);
        Assert.Equal((0, $"gm {address} keystore (scrypt n=4096 r=8 p=1)\n", ""), await RunAsync("keys", "show", "--key", keystore));
        using var signer = KeySource.OpenSigner(Keystore(keystore, password), chainScheme: CryptoSuite.Gm.Signatures);
        Assert.Equal(address, signer.Address);
        var digest = CryptoSuite.Gm.Hash("x"u8);
        Assert.Equal(SignatureCheck.Ok, CryptoSuite.Gm.Verify(digest, signer.Sign(digest), address));
    }

    [Fact]
    public async Task Keys_import_reads_bare_hex_as_the_suite_crypto_names_and_refuses_to_move_a_key_to_the_other_suite()
    {
        var hex = Write("wallet.txt", "0000000000000000000000000000000000000000000000000000000000000001");
        var password = Write("password", "p\n");

        var (code, output, _) = await RunAsync("keys", "import", "--crypto", "gm", "--from", hex, "--insecure-plaintext", "--out", PathOf("gm.json"), "--password-file", password, "--scrypt-n", "4096");

        Assert.Equal(0, code);
        Assert.Equal(DevelopmentKeystores.SampleAddress(1, CryptoSuiteId.Gm), Address.Parse(output.Trim()));
        var moved = await RunAsync("keys", "import", "--crypto", "eth", "--from", PathOf("gm.json"), "--from-password-file", password, "--out", PathOf("eth.json"), "--password-file", password, "--scrypt-n", "4096");
        Assert.Equal(2, moved.Code);
        Assert.Equal($"smartcity keys import: --crypto eth: '{PathOf("gm.json")}' holds a gm (SM2) key ({DevelopmentKeystores.SampleAddress(1, CryptoSuiteId.Gm)}); a key cannot change suite (its address would change)\n", moved.Error);
        Assert.False(File.Exists(PathOf("eth.json")));
    }

    [Fact]
    public async Task Unknown_crypto_and_a_gm_key_on_pkcs11_are_one_line_and_exit_code_2()
    {
        var unknown = await RunAsync("keys", "new", "--crypto", "sm9", "--insecure-plaintext");
        var hsm = await RunAsync("keys", "hsm-new", "--crypto", "gm", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--token", "t", "--label", "k", "--pin-env", "UNSET_" + Guid.NewGuid().ToString("N"));

        Assert.Equal((2, "", "smartcity keys new: --crypto: 'sm9' is neither eth (secp256k1) nor gm (SM2)\n"), unknown);
        Assert.Equal(2, hsm.Code);
        Assert.StartsWith("smartcity keys hsm-new: --crypto gm: PKCS#11 defines no SM2 signature mechanism", hsm.Error, StringComparison.Ordinal);
        Assert.Single(hsm.Error.TrimEnd('\n').Split('\n'));
    }

    private string PathOf(string name) => Path.Combine(_directory, name);

    private string Write(string name, string content, UnixFileMode mode = Private)
    {
        var path = PathOf(name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static KeySourceOptions Keystore(string path, string passwordFile)
        => new() { Keystore = new KeystoreKeyOptions { Path = path, Password = new SecretSourceOptions { File = passwordFile } } };

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(CliRoot.Create(), args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
