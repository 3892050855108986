using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Org.BouncyCastle.Crypto.Generators;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Keys.Tests;

/// <summary>
/// SM2 keys (the gm suite) in keystores, clear-text key files and the key source (docs/keys.md, "Keys of the gm
/// suite"). Cost: light scrypt only, one <c>openssl enc</c> run; well under a second each.
/// </summary>
public sealed class GmKeyTests : IDisposable
{
    private static readonly byte[] Password = "gm keystore password"u8.ToArray();
    private readonly KeyFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Gm_keystore_records_its_suite_uses_sm4_ctr_and_decrypts_to_the_same_sm2_key()
    {
        using var key = KeyMaterial.Generate(CryptoSuiteId.Gm);
        var json = Keystore.Encrypt(key, Password, ScryptParameters.Light);

        var document = JsonNode.Parse(json)!;
        Assert.Equal("gm", (string)document["suite"]!);
        Assert.Equal("sm4-ctr", (string)document["crypto"]!["cipher"]!);
        Assert.Equal(CryptoSuiteId.Gm, Keystore.StatedSuite(json));
        Assert.Equal(key.Address, Keystore.StatedAddress(json));

        using var back = Keystore.Decrypt(json, Password);
        Assert.Equal(CryptoSuiteId.Gm, back.Suite);
        Assert.Equal(key.Address, back.Address);
        Assert.Equal(Convert.ToHexString(key.Bytes), Convert.ToHexString(back.Bytes));
    }

    [Fact]
    public void Gm_key_address_is_the_last_20_bytes_of_sm3_of_its_public_key_not_the_eth_address_of_the_same_bytes()
    {
        using var gm = KeyMaterial.Generate(CryptoSuiteId.Gm);
        Span<byte> publicKey = stackalloc byte[64];
        Sm2.Default.GetPublicKey(gm.Bytes, publicKey);

        Assert.Equal(Sm2.AddressOf(publicKey), gm.Address);
        Assert.Equal(new Address(Sm3.Hash(publicKey).Bytes[12..]), gm.Address);
        Assert.NotEqual(Secp256k1.Default.GetAddress(gm.Bytes), gm.Address);
    }

    [Fact]
    public void Gm_keystore_ciphertext_is_sm4_ctr_under_the_scrypt_key_and_its_mac_is_sm3_as_openssl_computes_them()
    {
        using var key = KeyMaterial.Generate(CryptoSuiteId.Gm);
        var document = JsonNode.Parse(Keystore.Encrypt(key, Password, ScryptParameters.Light))!;
        var crypto = document["crypto"]!;
        var kdf = crypto["kdfparams"]!;
        var derived = SCrypt.Generate(Password, Convert.FromHexString((string)kdf["salt"]!), (int)kdf["n"]!, (int)kdf["r"]!, (int)kdf["p"]!, 32);
        var cipherText = Convert.FromHexString((string)crypto["ciphertext"]!);

        var input = _files.PathOf("ciphertext.bin");
        File.WriteAllBytes(input, cipherText);
        var plain = OpenSsl("enc", "-d", "-sm4-ctr", "-K", Convert.ToHexStringLower(derived[..16]), "-iv", (string)crypto["cipherparams"]!["iv"]!, "-in", input);
        Assert.Equal(Convert.ToHexString(key.Bytes), Convert.ToHexString(plain));

        var macInput = _files.PathOf("mac.bin");
        File.WriteAllBytes(macInput, [.. derived[16..], .. cipherText]);
        Assert.Equal(Convert.ToHexStringLower(OpenSsl("dgst", "-sm3", "-binary", macInput)), (string)crypto["mac"]!);
    }

    [Fact]
    public void Eth_keystore_still_has_no_suite_field_and_aes_128_ctr()
    {
        using var key = KeyMaterial.Generate();
        var document = JsonNode.Parse(Keystore.Encrypt(key, Password, ScryptParameters.Light))!;

        Assert.Null(document["suite"]);
        Assert.Equal("aes-128-ctr", (string)document["crypto"]!["cipher"]!);
        Assert.Equal(CryptoSuiteId.Eth, key.Suite);
    }

    [Fact]
    public void Gm_keystore_stripped_of_its_suite_or_naming_another_cipher_or_suite_is_refused_before_any_key_is_produced()
    {
        using var key = KeyMaterial.Generate(CryptoSuiteId.Gm);
        var json = Keystore.Encrypt(key, Password, ScryptParameters.Light);

        var stripped = JsonNode.Parse(json)!.AsObject();
        stripped.Remove("suite");
        var asEth = Assert.Throws<KeySourceException>(() => Keystore.Decrypt(stripped.ToJsonString(), Password));
        Assert.Equal(KeySourceErrorCode.UnsupportedKeystore, asEth.Code);
        Assert.Equal("keystore: unsupported keystore: cipher 'sm4-ctr' for an eth (secp256k1) key; only aes-128-ctr is accepted", asEth.Message);

        var aes = JsonNode.Parse(json)!;
        aes["crypto"]!["cipher"] = "aes-128-ctr";
        Assert.Equal(KeySourceErrorCode.UnsupportedKeystore, Assert.Throws<KeySourceException>(() => Keystore.Decrypt(aes.ToJsonString(), Password)).Code);

        var other = JsonNode.Parse(json)!;
        other["suite"] = "sm9";
        var unknown = Assert.Throws<KeySourceException>(() => Keystore.Decrypt(other.ToJsonString(), Password));
        Assert.Equal(KeySourceErrorCode.UnsupportedKeystore, unknown.Code);
        Assert.Contains("\"suite\" \"sm9\"", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_password_on_a_gm_keystore_is_a_wrong_password()
    {
        using var key = KeyMaterial.Generate(CryptoSuiteId.Gm);
        var json = Keystore.Encrypt(key, Password, ScryptParameters.Light);

        Assert.Equal(KeySourceErrorCode.WrongPassword, Assert.Throws<KeySourceException>(() => Keystore.Decrypt(json, "not it"u8)).Code);
    }

    [Fact]
    public void Clear_text_gm_key_file_states_its_suite_and_reads_back_as_the_same_sm2_key()
    {
        using var key = KeyMaterial.Generate(CryptoSuiteId.Gm);
        var path = _files.PathOf("gm-key.json");
        PlaintextKeyFile.Write(path, key);

        Assert.StartsWith("{\"suite\":\"gm\",\"address\":\"" + key.Address + "\"", File.ReadAllText(path), StringComparison.Ordinal);
        using var back = PlaintextKeyFile.Read(path);
        Assert.Equal(CryptoSuiteId.Gm, back.Suite);
        Assert.Equal(key.Address, back.Address);
    }

    [Fact]
    public void Bare_hex_key_is_read_in_the_suite_the_caller_names_and_a_stated_suite_must_match_it()
    {
        using var key = KeyMaterial.Generate(CryptoSuiteId.Gm);
        var hex = _files.Write("bare.txt", Convert.ToHexStringLower(key.Bytes));

        using (var asGm = PlaintextKeyFile.Read(hex, CryptoSuiteId.Gm))
        using (var asEth = PlaintextKeyFile.Read(hex))
        {
            Assert.Equal(key.Address, asGm.Address);
            Assert.Equal(CryptoSuiteId.Eth, asEth.Suite);
            Assert.NotEqual(key.Address, asEth.Address);
        }

        var stated = _files.PathOf("stated.json");
        PlaintextKeyFile.Write(stated, key);
        var error = Assert.Throws<KeySourceException>(() => PlaintextKeyFile.Read(stated, CryptoSuiteId.Eth));
        Assert.Equal(KeySourceErrorCode.WrongSuite, error.Code);
        Assert.Equal($"clear-text key file '{stated}' holds a gm (SM2) key, not an eth (secp256k1) one", error.Message);
    }

    [Fact]
    public void Gm_keystore_opens_as_a_signer_whose_128_byte_signatures_verify_under_the_gm_suite_only()
    {
        var (path, address) = NewKeystore(CryptoSuiteId.Gm);

        using var signer = KeySource.OpenSigner(Options(path), expectedAddress: address, chainScheme: CryptoSuite.Gm.Signatures);

        Assert.Equal(CryptoSuiteId.Gm, signer.Suite);
        var digest = CryptoSuite.Gm.Hash("seal"u8);
        var signature = signer.Sign(digest);
        Assert.Equal(128, signature.Bytes.Length);
        Assert.Equal(SignatureCheck.Ok, CryptoSuite.Gm.Verify(digest, signature, address));
        Assert.Equal(SignatureCheck.WrongSuite, CryptoSuite.Eth.Verify(digest, signature, address));
    }

    [Fact]
    public void Gm_signer_signs_with_the_chains_sm2_identifier_when_genesis_names_another()
    {
        var (path, address) = NewKeystore(CryptoSuiteId.Gm);
        var chain = Sm2.Create(null, "bj-tj-he credit chain");

        using var signer = KeySource.OpenSigner(Options(path), chainScheme: chain);

        var digest = CryptoSuite.Gm.Hash("block"u8);
        var signature = signer.Sign(digest);
        Assert.Equal(SignatureCheck.Ok, chain.Verify(digest, signature, address));
        Assert.Equal(SignatureCheck.Invalid, Sm2.Default.Verify(digest, signature, address));
    }

    [Fact]
    public void Key_of_the_other_suite_than_the_chains_is_refused_naming_both()
    {
        var (gmPath, gmAddress) = NewKeystore(CryptoSuiteId.Gm);
        var (ethPath, _) = NewKeystore(CryptoSuiteId.Eth);

        var gmOnEth = Assert.Throws<KeySourceException>(() => KeySource.OpenSigner(Options(gmPath), chainScheme: CryptoSuite.Eth.Signatures));
        Assert.Equal(KeySourceErrorCode.WrongSuite, gmOnEth.Code);
        Assert.Equal($"keystore '{gmPath}' holds a gm (SM2) key ({gmAddress}), but the chain's crypto suite is eth: it needs an eth (secp256k1) key", gmOnEth.Message);

        Assert.True(KeySource.TryOpenSigner(Options(ethPath), null, null, null, CryptoSuite.Gm.Signatures, out _, out var error) is false);
        Assert.Equal(KeySourceErrorCode.WrongSuite, error!.Code);
    }

    [Fact]
    public void Pkcs11_key_for_a_gm_chain_is_refused_as_an_unsupported_suite_before_the_pin_is_asked()
    {
        var prompt = new RecordingPrompt();
        var options = new KeySourceOptions
        {
            Pkcs11 = new Pkcs11KeyOptions { Module = "/usr/lib/softhsm/libsofthsm2.so", TokenLabel = "bj-validator", KeyLabel = "validator", Pin = new SecretSourceOptions { Prompt = true } },
        };

        var error = Assert.Throws<KeySourceException>(() => KeySource.OpenSigner(options, prompt: prompt, chainScheme: CryptoSuite.Gm.Signatures));

        Assert.Equal(KeySourceErrorCode.UnsupportedSuite, error.Code);
        Assert.Contains("PKCS#11 defines no SM2 signature mechanism", error.Message, StringComparison.Ordinal);
        Assert.False(prompt.Asked);
    }

    [Fact]
    public void Gm_development_keystores_hold_the_sample_integers_as_sm2_keys_with_gm_addresses()
    {
        var written = DevelopmentKeystores.WriteSampleGenesisKeys(_files.PathOf("dev"), suite: CryptoSuiteId.Gm);

        Assert.Equal(10, written.Count);
        Assert.Equal(DevelopmentKeystores.SampleAddress(1, CryptoSuiteId.Gm), written[0].Address);
        Assert.Equal(DevelopmentKeystores.SampleAddress(101, CryptoSuiteId.Gm), written[6].Address);
        Assert.NotEqual(DevelopmentKeystores.SampleAddress(1), written[0].Address);
        using var key = KeystoreFile.Read(written[0].Path, Encoding.UTF8.GetBytes(DevelopmentKeystores.Password));
        Assert.Equal(CryptoSuiteId.Gm, key.Suite);
        Assert.Equal(written[0].Address, key.Address);
    }

    private (string Path, Address Address) NewKeystore(CryptoSuiteId suite)
    {
        using var key = KeyMaterial.Generate(suite);
        var path = _files.PathOf($"{suite}-{Guid.NewGuid():N}.json");
        KeystoreFile.Write(path, key, Password, ScryptParameters.Light);
        return (path, key.Address);
    }

    private KeySourceOptions Options(string path) => new()
    {
        Keystore = new KeystoreKeyOptions { Path = path, Password = new SecretSourceOptions { File = _files.Write($"password-{Guid.NewGuid():N}", Encoding.UTF8.GetString(Password)) } },
    };

    private static byte[] OpenSsl(params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start (scripts/test.sh installs the openssl package)");
        using var output = new MemoryStream();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', arguments)} failed: {error.Result}");
        return output.ToArray();
    }

    private sealed class RecordingPrompt : ISecretPrompt
    {
        public bool Asked { get; private set; }

        public byte[]? ReadSecret(string prompt)
        {
            Asked = true;
            return "1234"u8.ToArray();
        }
    }
}
