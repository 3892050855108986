using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys.Pkcs11;

/// <summary>
/// A validator signer whose secp256k1 private key (eth suite only: docs/keys.md, "PKCS#11 and the gm suite") never leaves a PKCS#11 token: CKM_ECDSA over the 32-byte digest on
/// the device, then the signature normalised to low s and given its recovery id (<see cref="EcdsaRecovery"/>).
/// One session, used under a lock (PKCS#11 sessions are single-threaded). Opening it signs a self-test digest, so
/// a public key that does not belong to the private key, or a token that cannot sign, stops the node at start-up.
/// A token that fails later (removed, module finalised) makes <see cref="Sign"/> throw a
/// <see cref="KeySourceException"/>; it never returns a partial or unchecked signature.
/// </summary>
public sealed class Pkcs11Signer : ISigner, IDisposable
{
    private static readonly Hash256 SelfTestDigest = CryptoSuite.Eth.Hash("SmartCity.Ledger PKCS#11 signer self-test"u8);

    private readonly Pkcs11Session _session;
    private readonly IObjectHandle _privateKey;
    private readonly IMechanism _ecdsa;
    private readonly ISecp256k1 _curve;
    private readonly Lock _gate = new();
    private readonly string _keyLabel;
    private bool _disposed;

    private Pkcs11Signer(Pkcs11Session session, IObjectHandle privateKey, Address address, string keyLabel, ISecp256k1 curve)
    {
        _session = session;
        _privateKey = privateKey;
        _ecdsa = Pkcs11Session.Factories.MechanismFactory.Create(CKM.CKM_ECDSA);
        _curve = curve;
        _keyLabel = keyLabel;
        Address = address;
    }

    public Address Address { get; }

    /// <summary>Opens the key the options name with <paramref name="pin"/>; failures are <see cref="KeySourceException"/>s.</summary>
    public static Pkcs11Signer Open(Pkcs11KeyOptions options, ReadOnlySpan<byte> pin, ISecp256k1? curve = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var session = Pkcs11Session.Open(options, pin, readWrite: false);
        try
        {
            var privateKey = session.FindOne(CKO.CKO_PRIVATE_KEY, options.KeyLabel)
                ?? throw new KeySourceException(KeySourceErrorCode.KeyNotFound, $"PKCS#11 {session.Token}: no private key labelled '{options.KeyLabel}'");
            var address = session.ReadAddress(options.KeyLabel);
            var signer = new Pkcs11Signer(session, privateKey, address, options.KeyLabel, curve ?? ((EthCryptoSuite)CryptoSuite.Eth).Secp256k1);
            signer.SelfTest();
            return signer;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public Signature Sign(in Hash256 digest)
    {
        byte[] raw;
        var message = digest.ToArray();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            raw = Pkcs11Session.Call(_session.Token, $"signing with key '{_keyLabel}'", () => _session.Session.Sign(_ecdsa, _privateKey, message));
        }

        return EcdsaRecovery.ToRecoverable(raw, digest, Address, _curve)
            ?? throw new KeySourceException(KeySourceErrorCode.DeviceError,
                $"PKCS#11 {_session.Token}: the signature of key '{_keyLabel}' ({raw.Length} bytes) does not recover to {Address}; no signature was produced");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _session.Dispose();
        }
    }

    public override string ToString() => $"PKCS#11 signer {Address} ({_session.Token}, key '{_keyLabel}')";

    private void SelfTest()
    {
        try
        {
            Sign(SelfTestDigest);
        }
        catch (KeySourceException e) when (e.Code == KeySourceErrorCode.DeviceError && e.InnerException is null)
        {
            throw new KeySourceException(KeySourceErrorCode.UnsupportedKey,
                $"PKCS#11 {_session.Token}: the private and public keys labelled '{_keyLabel}' do not form a pair (a test signature does not recover to {Address})");
        }
    }
}
