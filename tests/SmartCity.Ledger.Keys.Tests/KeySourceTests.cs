using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys.Tests;

public sealed class KeySourceTests : IDisposable
{
    private const string Password = "validator password";
    private readonly KeyFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Keystore_with_a_password_file_opens_as_a_signer_of_its_address()
    {
        var (path, address) = NewKeystore();
        var options = KeystoreOptions(path, new SecretSourceOptions { File = _files.Write("password", Password + "\n") });

        using var signer = KeySource.OpenSigner(options, expectedAddress: address);

        Assert.Equal(address, signer.Address);
        Assert.Equal(KeySourceKind.Keystore, signer.Kind);
        var digest = Keccak256.Hash("seal"u8);
        Assert.Equal(SignatureCheck.Ok, Secp256k1.Default.Verify(digest, signer.Sign(digest), address));
    }

    [Fact]
    public void Password_comes_from_the_environment_variable_the_configuration_names()
    {
        var (path, address) = NewKeystore();
        var variable = "SMARTCITY_TEST_KEYSTORE_PASSWORD_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, Password);
        try
        {
            using var signer = KeySource.OpenSigner(KeystoreOptions(path, new SecretSourceOptions { Environment = variable }));
            Assert.Equal(address, signer.Address);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Password_comes_from_the_prompt_when_configured_so()
    {
        var (path, address) = NewKeystore();
        var prompt = new ScriptedPrompt(Encoding.UTF8.GetBytes(Password));

        using var signer = KeySource.OpenSigner(KeystoreOptions(path, new SecretSourceOptions { Prompt = true }), prompt: prompt);

        Assert.Equal(address, signer.Address);
        Assert.Equal("Keystore password: ", prompt.Asked);
    }

    [Fact]
    public void Prompt_without_a_terminal_is_a_clear_error()
    {
        var (path, _) = NewKeystore();
        var error = Open(KeystoreOptions(path, new SecretSourceOptions { Prompt = true }), prompt: new ScriptedPrompt(null));

        Assert.Equal(KeySourceErrorCode.SecretUnavailable, error.Code);
        Assert.Contains("no terminal", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unset_password_variable_is_a_clear_error()
    {
        var (path, _) = NewKeystore();
        var error = Open(KeystoreOptions(path, new SecretSourceOptions { Environment = "SMARTCITY_TEST_UNSET_" + Guid.NewGuid().ToString("N") }));
        Assert.Equal(KeySourceErrorCode.SecretUnavailable, error.Code);
        Assert.Contains("is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_password_is_one_clear_line_naming_the_keystore()
    {
        var (path, _) = NewKeystore();
        var error = Open(KeystoreOptions(path, new SecretSourceOptions { File = _files.Write("password", "not the password") }));

        Assert.Equal(KeySourceErrorCode.WrongPassword, error.Code);
        Assert.Equal($"keystore '{path}': wrong password (the keystore's MAC does not match)", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, "0644")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite, "0602")]
    public void Keystore_file_readable_or_writable_by_group_or_others_is_refused(UnixFileMode mode, string octal)
    {
        var (path, _) = NewKeystore();
        File.SetUnixFileMode(path, mode);
        var prompt = new ScriptedPrompt(Encoding.UTF8.GetBytes(Password));

        var error = Open(KeystoreOptions(path, new SecretSourceOptions { Prompt = true }), prompt: prompt);

        Assert.Equal(KeySourceErrorCode.PermissionsTooOpen, error.Code);
        Assert.Contains($"mode {octal}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"chmod 600 '{path}'", error.Message, StringComparison.Ordinal);
        Assert.Null(prompt.Asked);
    }

    [Fact]
    public void Password_file_readable_by_others_is_refused()
    {
        var (path, _) = NewKeystore();
        var passwordFile = _files.Write("password", Password, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var error = Open(KeystoreOptions(path, new SecretSourceOptions { File = passwordFile }));

        Assert.Equal(KeySourceErrorCode.PermissionsTooOpen, error.Code);
        Assert.Contains("keystore password file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_that_is_not_the_configured_validator_is_refused_and_disposed()
    {
        var (path, address) = NewKeystore();
        var configured = Address.Parse("0xE6b3367318C5e11a6eED3Cd0D850eC06A02E9b90");

        var error = Open(KeystoreOptions(path, new SecretSourceOptions { File = _files.Write("password", Password) }), configured);

        Assert.Equal(KeySourceErrorCode.AddressMismatch, error.Code);
        Assert.Equal($"the key in keystore '{path}' belongs to {address}, but the configuration expects {configured}", error.Message);
    }

    [Fact]
    public void Missing_keystore_file_is_a_clear_error()
    {
        var path = _files.PathOf("absent.json");
        var error = Open(KeystoreOptions(path, new SecretSourceOptions { File = _files.Write("password", Password) }));
        Assert.Equal(KeySourceErrorCode.FileUnreadable, error.Code);
        Assert.Equal($"keystore '{path}' does not exist", error.Message);
    }

    [Fact]
    public void Clear_text_key_is_refused_unless_insecure_plaintext_is_set()
    {
        var path = _files.Write("dev-key.json", """{"address":"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf","privateKey":"0x0000000000000000000000000000000000000000000000000000000000000001"}""");
        var options = new KeySourceOptions { Plaintext = new PlaintextKeyOptions { Path = path } };

        Assert.Equal(KeySourceErrorCode.PlaintextNotAllowed, Open(options).Code);

        options.InsecurePlaintext = true;
        using var signer = KeySource.OpenSigner(options);
        Assert.Equal(Address.Parse("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"), signer.Address);
        Assert.Equal(KeySourceKind.Plaintext, signer.Kind);
    }

    [Fact]
    public void Clear_text_file_of_bare_hex_as_wallets_export_it_is_read()
    {
        var path = _files.Write("hex.txt", "0x0000000000000000000000000000000000000000000000000000000000000002\n");
        using var signer = KeySource.OpenSigner(new KeySourceOptions { Plaintext = new PlaintextKeyOptions { Path = path }, InsecurePlaintext = true });
        Assert.Equal(Address.Parse("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"), signer.Address);
    }

    [Fact]
    public void Options_must_name_exactly_one_source_and_one_secret_source()
    {
        Assert.Contains("names none", new KeySourceOptions().Validate()!.Message, StringComparison.Ordinal);
        Assert.Contains("more than one", new KeySourceOptions { Keystore = new() { Path = "k" }, Plaintext = new() { Path = "p" } }.Validate()!.Message, StringComparison.Ordinal);
        Assert.Contains("exactly one of File, Environment and Prompt",
            new KeySourceOptions { Keystore = new() { Path = "k", Password = new() { File = "f", Environment = "E" } } }.Validate()!.Message, StringComparison.Ordinal);
        Assert.Contains("exactly one of Slot and TokenLabel",
            new KeySourceOptions { Pkcs11 = new() { Module = "m", KeyLabel = "k", Pin = new() { Prompt = true } } }.Validate()!.Message, StringComparison.Ordinal);
        Assert.Null(new KeySourceOptions { Pkcs11 = new() { Module = "m", TokenLabel = "t", KeyLabel = "k", Pin = new() { Environment = "PIN" } } }.Validate());
        Assert.Equal(KeySourceErrorCode.InvalidOptions, Open(new KeySourceOptions()).Code);
    }

    [Fact]
    public void Try_open_reports_the_failure_as_a_value()
    {
        var opened = KeySource.TryOpenSigner(new KeySourceOptions(), null, null, null, out var signer, out var error);
        Assert.False(opened);
        Assert.Null(signer);
        Assert.Equal(KeySourceErrorCode.InvalidOptions, error!.Code);
    }

    [Fact]
    public void Sample_genesis_development_keystores_open_to_the_genesis_addresses()
    {
        var written = DevelopmentKeystores.WriteSampleGenesisKeys(_files.PathOf("dev"));
        Assert.Equal(10, written.Count);
        var password = _files.Write("dev-password", DevelopmentKeystores.Password);
        var validatorBj = written.Single(w => w.Path.EndsWith("validator-bj.json", StringComparison.Ordinal));

        using var signer = KeySource.OpenSigner(KeystoreOptions(validatorBj.Path, new SecretSourceOptions { File = password }),
            expectedAddress: Address.Parse("0xE6b3367318C5e11a6eED3Cd0D850eC06A02E9b90"));

        Assert.Equal(validatorBj.Address, signer.Address);
        Assert.Equal(Address.Parse("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"), written[0].Address);
    }

    private (string Path, Address Address) NewKeystore()
    {
        var path = _files.PathOf($"keystore-{Guid.NewGuid():N}.json");
        using var key = KeyMaterial.Generate();
        KeystoreFile.Write(path, key, Encoding.UTF8.GetBytes(Password), ScryptParameters.Light);
        return (path, key.Address);
    }

    private static KeySourceOptions KeystoreOptions(string path, SecretSourceOptions password)
        => new() { Keystore = new KeystoreKeyOptions { Path = path, Password = password } };

    private static KeySourceError Open(KeySourceOptions options, Address? expected = null, ISecretPrompt? prompt = null)
        => Assert.Throws<KeySourceException>(() => KeySource.OpenSigner(options, expected, prompt)).Error;

    private sealed class ScriptedPrompt(byte[]? answer) : ISecretPrompt
    {
        public string? Asked { get; private set; }

        public byte[]? ReadSecret(string prompt)
        {
            Asked = prompt;
            return answer is null ? null : (byte[])answer.Clone();
        }
    }
}
