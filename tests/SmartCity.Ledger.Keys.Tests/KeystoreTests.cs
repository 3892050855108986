using System.Text;
using System.Text.Json.Nodes;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys.Tests;

public sealed class KeystoreTests
{
    private static readonly byte[] Password = "correct horse battery staple"u8.ToArray();

    // The Web3 Secret Storage definition's published PBKDF2-SHA-256 test vector (ethereum.org, "Web3 secret storage
    // definition", test vectors): password "testpassword", secret 7a28…fe9d, address 008aeeda…786b.
    private const string SpecificationVector = """
        {
          "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": "6087dab2f9fdbbfaddc31a909735c1e6" },
            "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
            "kdf": "pbkdf2",
            "kdfparams": { "c": 262144, "dklen": 32, "prf": "hmac-sha256", "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd" },
            "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
          },
          "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
          "version": 3
        }
        """;

    [Fact]
    public void Specification_test_vector_decrypts_to_its_published_address()
    {
        using var key = Keystore.Decrypt(SpecificationVector, "testpassword"u8);
        Assert.Equal(Address.Parse("0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b"), key.Address);
        Assert.Equal("7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d", Convert.ToHexStringLower(key.Bytes));
    }

    [Fact]
    public void New_keystores_use_gets_standard_scrypt_parameters_and_decrypt_to_the_same_key()
    {
        using var key = KeyMaterial.Generate();
        var json = Keystore.Encrypt(key, Password);

        var kdf = JsonNode.Parse(json)!["crypto"]!["kdfparams"]!;
        Assert.Equal(262144, (int)kdf["n"]!);
        Assert.Equal(8, (int)kdf["r"]!);
        Assert.Equal(1, (int)kdf["p"]!);
        Assert.Equal(32, (int)kdf["dklen"]!);
        Assert.Equal("scrypt n=262144 r=8 p=1", Keystore.DescribeKdf(json));
        Assert.Equal(key.Address, Keystore.StatedAddress(json));
        using var back = Keystore.Decrypt(json, Password);
        Assert.Equal(key.Address, back.Address);
        Assert.Equal(Convert.ToHexString(key.Bytes), Convert.ToHexString(back.Bytes));
    }

    [Fact]
    public void Keystore_json_never_contains_the_key_or_the_password()
    {
        using var key = KeyMaterial.Generate();
        var json = Keystore.Encrypt(key, Password, ScryptParameters.Light);

        Assert.DoesNotContain(Convert.ToHexStringLower(key.Bytes), json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Encoding.UTF8.GetString(Password), json, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_password_is_refused_as_a_wrong_password()
    {
        using var key = KeyMaterial.Generate();
        var json = Keystore.Encrypt(key, Password, ScryptParameters.Light);

        var error = Assert.Throws<KeySourceException>(() => Keystore.Decrypt(json, "correct horse battery stapler"u8));
        Assert.Equal(KeySourceErrorCode.WrongPassword, error.Code);
        Assert.Equal("keystore: wrong password (the keystore's MAC does not match)", error.Message);
    }

    [Fact]
    public void Altered_ciphertext_is_caught_by_the_mac_and_yields_no_key()
    {
        using var key = KeyMaterial.Generate();
        var document = JsonNode.Parse(Keystore.Encrypt(key, Password, ScryptParameters.Light))!;
        var cipherText = (string)document["crypto"]!["ciphertext"]!;
        document["crypto"]!["ciphertext"] = (cipherText[0] == '0' ? "1" : "0") + cipherText[1..];

        Assert.Equal(KeySourceErrorCode.WrongPassword, Assert.Throws<KeySourceException>(() => Keystore.Decrypt(document.ToJsonString(), Password)).Code);
    }

    [Fact]
    public void Keystore_whose_stated_address_is_not_its_keys_is_refused()
    {
        using var key = KeyMaterial.Generate();
        var document = JsonNode.Parse(Keystore.Encrypt(key, Password, ScryptParameters.Light))!;
        document["address"] = "7e5f4552091a69125d5dfcb7b8c2659029395bdf";

        var error = Assert.Throws<KeySourceException>(() => Keystore.Decrypt(document.ToJsonString(), Password));
        Assert.Equal(KeySourceErrorCode.AddressMismatch, error.Code);
        Assert.Contains(key.Address.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("version", "1", KeySourceErrorCode.UnsupportedKeystore, "only Web3 Secret Storage version 3")]
    [InlineData("crypto.cipher", "\"aes-128-cbc\"", KeySourceErrorCode.UnsupportedKeystore, "only aes-128-ctr")]
    [InlineData("crypto.kdf", "\"argon2id\"", KeySourceErrorCode.UnsupportedKeystore, "only scrypt and pbkdf2")]
    [InlineData("crypto.kdfparams.n", "16777216", KeySourceErrorCode.UnsupportedKeystore, "above the accepted maximum")]
    [InlineData("crypto.kdfparams.n", "1000", KeySourceErrorCode.UnsupportedKeystore, "power of two")]
    [InlineData("crypto.kdfparams.dklen", "16", KeySourceErrorCode.UnsupportedKeystore, "dklen")]
    [InlineData("crypto.mac", "\"zz\"", KeySourceErrorCode.NotAKeystore, "\"mac\" is not hex")]
    [InlineData("crypto.cipherparams.iv", "\"00\"", KeySourceErrorCode.NotAKeystore, "\"iv\" is 1 bytes, expected 16")]
    [InlineData("crypto.ciphertext", "null", KeySourceErrorCode.NotAKeystore, "no \"ciphertext\" string")]
    public void Malformed_or_unsupported_keystores_are_refused_before_any_key_derivation(string field, string value, KeySourceErrorCode code, string reason)
    {
        using var key = KeyMaterial.Generate();
        var document = JsonNode.Parse(Keystore.Encrypt(key, Password, ScryptParameters.Light))!;
        var path = field.Split('.');
        var parent = path[..^1].Aggregate(document, (node, name) => node[name]!);
        parent[path[^1]] = JsonNode.Parse(value);

        var error = Assert.Throws<KeySourceException>(() => Keystore.Decrypt(document.ToJsonString(), Password));
        Assert.Equal(code, error.Code);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"version\":3}")]
    public void Files_that_are_not_keystores_say_so(string json)
        => Assert.Equal(KeySourceErrorCode.NotAKeystore, Assert.Throws<KeySourceException>(() => Keystore.Decrypt(json, Password)).Code);

    [Fact]
    public void Keystore_written_with_a_capital_crypto_member_as_ethers_does_is_read()
    {
        using var key = KeyMaterial.Generate();
        var document = JsonNode.Parse(Keystore.Encrypt(key, Password, ScryptParameters.Light))!.AsObject();
        var crypto = document["crypto"]!;
        document.Remove("crypto");
        document["Crypto"] = crypto;

        using var back = Keystore.Decrypt(document.ToJsonString(), Password);
        Assert.Equal(key.Address, back.Address);
    }
}
