using System.Text;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys.Pkcs11;
using SmartCity.Testing;

namespace SmartCity.Ledger.Keys.Tests;

/// <summary>SoftHSM is initialised once per process, so the tests that use it run one at a time, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoftHsmCollection
{
    public const string Name = "SoftHSM";
}

/// <summary>Validator keys on a real PKCS#11 module (SoftHSM2), each test with a throwaway token directory.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11SignerTests : IDisposable
{
    private const string Token = "bj-validator";
    private const string KeyLabel = "validator";
    private readonly KeyFiles _files = new();
    private readonly Lazy<SoftHsm> _hsm = new(() =>
    {
        var hsm = SoftHsm.Create();
        hsm.InitToken(Token);
        return hsm;
    });

    public void Dispose()
    {
        if (_hsm.IsValueCreated)
        {
            _hsm.Value.Dispose();
        }

        _files.Dispose();
    }

    [SoftHsmFact]
    public void Key_created_on_the_token_signs_low_s_signatures_that_recover_to_its_address()
    {
        var address = Generate();
        using var signer = KeySource.OpenSigner(Options(), expectedAddress: address);
        Assert.Equal(KeySourceKind.Pkcs11, signer.Kind);

        for (var i = 0; i < 24; i++)
        {
            var digest = Keccak256.Hash(BitConverter.GetBytes(i));
            var signature = signer.Sign(digest);

            Assert.True(signature.V is 27 or 28);
            foreach (var curve in new ISecp256k1[] { Secp256k1.Default, ManagedSecp256k1.Instance })
            {
                // Recover rejects high s (EIP-2), so Ok proves the device's s was normalised and v found.
                Assert.Equal(SignatureCheck.Ok, curve.Recover(digest, signature, out var recovered));
                Assert.Equal(address, recovered);
            }
        }
    }

    [SoftHsmFact]
    public void Commit_seals_made_on_the_token_certify_a_block_with_in_memory_validators()
    {
        var address = Generate();
        using var hsmValidator = KeySource.OpenSigner(Options());
        using var second = InMemorySigner.Generate();
        using var third = InMemorySigner.Generate();
        var validators = new ValidatorSet([address, second.Address, third.Address]);
        var domain = Keccak256.Hash("test-domain"u8);
        var header = new BlockHeader(3101, 1, Hash256.Zero, 1_790_000_000_000, validators.ProposerFor(1, 0), 0, 0, Hash256.Zero, Hash256.Zero, 0, Hash256.Zero, validators.Hash);

        var certificate = CommitCertificate.FromSeals(Secp256k1.Default, domain, header, new ISigner[] { hsmValidator, second, third }.Select(v => CommitSeal.Sign(v, domain, header)));

        var verdict = certificate.Verify(header, validators, domain, Secp256k1.Default);
        Assert.True(verdict.IsValid, verdict.Reason);
    }

    [SoftHsmFact]
    public void Token_named_by_slot_id_opens_the_same_key()
    {
        var address = Generate();
        var slot = FindSlotId();

        var options = Options();
        options.Pkcs11!.TokenLabel = null;
        options.Pkcs11.Slot = slot;
        using var signer = KeySource.OpenSigner(options);

        Assert.Equal(address, signer.Address);
    }

    [SoftHsmFact]
    public void Wrong_pin_is_refused_and_no_signer_is_opened()
    {
        Generate();
        var error = Open(Options(pin: "00000000"));

        Assert.Equal(KeySourceErrorCode.WrongPin, error.Code);
        Assert.Equal($"PKCS#11 token '{Token}': wrong PIN (CKR_PIN_INCORRECT); the node does not retry, because tokens lock after a few wrong PINs", error.Message);
    }

    [SoftHsmFact]
    public void Missing_key_label_is_refused()
    {
        Generate();
        var options = Options();
        options.Pkcs11!.KeyLabel = "no-such-key";

        var error = Open(options);

        Assert.Equal(KeySourceErrorCode.KeyNotFound, error.Code);
        Assert.Equal($"PKCS#11 token '{Token}': no private key labelled 'no-such-key'", error.Message);
    }

    [SoftHsmFact]
    public void Missing_token_is_refused()
    {
        _ = _hsm.Value;
        var options = Options();
        options.Pkcs11!.TokenLabel = "tj-validator";

        var error = Open(options);

        Assert.Equal(KeySourceErrorCode.TokenNotFound, error.Code);
        Assert.Equal($"PKCS#11 module '{SoftHsm.ModulePath}' has no token 'tj-validator' (absent, removed, or not initialised)", error.Message);
    }

    [SoftHsmFact]
    public void Missing_module_is_refused()
    {
        var options = Options();
        options.Pkcs11!.Module = "/usr/lib/softhsm/no-such-module.so";

        var error = Open(options);

        Assert.Equal(KeySourceErrorCode.ModuleUnavailable, error.Code);
        Assert.Equal("PKCS#11 module '/usr/lib/softhsm/no-such-module.so' does not exist", error.Message);
    }

    [SoftHsmFact]
    public void File_that_is_not_a_pkcs11_module_is_refused()
    {
        var options = Options();
        options.Pkcs11!.Module = _files.Write("not-a-module.so", "not a shared library");

        var error = Open(options);

        Assert.Equal(KeySourceErrorCode.ModuleUnavailable, error.Code);
        Assert.StartsWith($"PKCS#11 module '{options.Pkcs11.Module}' cannot be loaded", error.Message, StringComparison.Ordinal);
    }

    [SoftHsmFact]
    public void Token_removed_after_start_up_makes_signing_fail_without_a_signature()
    {
        Generate();
        using var signer = KeySource.OpenSigner(Options());
        var digest = Keccak256.Hash("block 7"u8);
        Assert.Equal(SignatureCheck.Ok, Secp256k1.Default.Verify(digest, signer.Sign(digest), signer.Address));

        _hsm.Value.RemoveTokens();

        var error = Assert.Throws<KeySourceException>(() => signer.Sign(Keccak256.Hash("block 8"u8)));
        Assert.Contains($"PKCS#11 token '{Token}': signing with key '{KeyLabel}' failed (CKR_", error.Message, StringComparison.Ordinal);
        Assert.Equal(KeySourceErrorCode.TokenNotFound, Open(Options()).Code);
    }

    [SoftHsmFact]
    public void Key_that_is_not_the_configured_validator_is_refused()
    {
        var address = Generate();
        var configured = Address.Parse("0xE6b3367318C5e11a6eED3Cd0D850eC06A02E9b90");

        var error = Open(Options(), configured);

        Assert.Equal(KeySourceErrorCode.AddressMismatch, error.Code);
        Assert.Equal($"the key in PKCS#11 token '{Token}' key '{KeyLabel}' belongs to {address}, but the configuration expects {configured}", error.Message);
    }

    [SoftHsmFact]
    public void Generating_a_key_under_a_label_already_taken_is_refused()
    {
        Generate();
        var error = Assert.Throws<KeySourceException>(() => Generate());
        Assert.Equal(KeySourceErrorCode.KeyAmbiguous, error.Code);
        Assert.Contains("exists already", error.Message, StringComparison.Ordinal);
    }

    [SoftHsmFact]
    public void Ec_key_on_another_curve_is_refused()
    {
        _hsm.Value.Run("/usr/bin/pkcs11-tool", "--module", SoftHsm.ModulePath, "--token-label", Token, "--login", "--pin", SoftHsm.UserPin,
            "--keypairgen", "--key-type", "EC:prime256v1", "--label", "p256", "--id", "02");
        var options = Options();
        options.Pkcs11!.KeyLabel = "p256";

        var error = Open(options);

        Assert.Equal(KeySourceErrorCode.UnsupportedKey, error.Code);
        Assert.Contains("not a secp256k1 EC key", error.Message, StringComparison.Ordinal);
    }

    [SoftHsmFact]
    public void Signing_after_dispose_throws()
    {
        Generate();
        var signer = KeySource.OpenSigner(Options());
        signer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => signer.Sign(Keccak256.Hash("late"u8)));
    }

    private Address Generate()
    {
        var options = Options().Pkcs11!;
        return Pkcs11KeyGenerator.Generate(options, Encoding.UTF8.GetBytes(SoftHsm.UserPin));
    }

    private ulong FindSlotId()
    {
        var output = _hsm.Value.Run(SoftHsm.Util, "--show-slots");
        foreach (var block in output.Split("\nSlot ").Skip(1))
        {
            if (block.Contains($"Label:            {Token} ", StringComparison.Ordinal))
            {
                return ulong.Parse(block[..block.IndexOf('\n', StringComparison.Ordinal)].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no slot with token {Token}:\n{output}");
    }

    private KeySourceOptions Options(string pin = SoftHsm.UserPin)
    {
        _ = _hsm.Value;
        return new KeySourceOptions
        {
            Pkcs11 = new Pkcs11KeyOptions
            {
                Module = SoftHsm.ModulePath,
                TokenLabel = Token,
                KeyLabel = KeyLabel,
                Pin = new SecretSourceOptions { File = _files.Write($"pin-{Guid.NewGuid():N}", pin) },
            },
        };
    }

    private static KeySourceError Open(KeySourceOptions options, Address? expected = null)
        => Assert.Throws<KeySourceException>(() => KeySource.OpenSigner(options, expected)).Error;
}
