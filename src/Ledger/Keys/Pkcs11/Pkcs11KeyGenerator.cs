using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys.Pkcs11;

/// <summary>Creates a secp256k1 key pair on a token (<c>smartcity keys hsm-new</c>).</summary>
public static class Pkcs11KeyGenerator
{
    /// <summary>
    /// Generates a key pair labelled <see cref="Pkcs11KeyOptions.KeyLabel"/> on the token: the private key is a token
    /// object, private, sensitive and never extractable, usable only to sign; the public key carries the same label
    /// and CKA_ID. Refuses a label that is already taken. Returns the new key's address.
    /// </summary>
    public static Address Generate(Pkcs11KeyOptions options, ReadOnlySpan<byte> pin)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var session = Pkcs11Session.Open(options, pin, readWrite: true);
        if (session.FindOne(CKO.CKO_PRIVATE_KEY, options.KeyLabel) is not null || session.FindOne(CKO.CKO_PUBLIC_KEY, options.KeyLabel) is not null)
        {
            throw new KeySourceException(KeySourceErrorCode.KeyAmbiguous, $"PKCS#11 {session.Token}: a key labelled '{options.KeyLabel}' exists already; choose another label");
        }

        var attributes = Pkcs11Session.Factories.ObjectAttributeFactory;
        var id = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        List<IObjectAttribute> publicTemplate =
        [
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, false),
            attributes.Create(CKA.CKA_LABEL, options.KeyLabel),
            attributes.Create(CKA.CKA_ID, id),
            attributes.Create(CKA.CKA_VERIFY, true),
            attributes.Create(CKA.CKA_EC_PARAMS, Pkcs11Session.Secp256k1Parameters),
        ];
        List<IObjectAttribute> privateTemplate =
        [
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_LABEL, options.KeyLabel),
            attributes.Create(CKA.CKA_ID, id),
            attributes.Create(CKA.CKA_SIGN, true),
        ];
        var mechanism = Pkcs11Session.Factories.MechanismFactory.Create(CKM.CKM_EC_KEY_PAIR_GEN);
        Pkcs11Session.Call(session.Token, "generating a secp256k1 key pair", () =>
        {
            session.Session.GenerateKeyPair(mechanism, publicTemplate, privateTemplate, out _, out _);
            return true;
        });
        return session.ReadAddress(options.KeyLabel);
    }
}
