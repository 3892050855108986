using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Keys.Pkcs11;

/// <summary>
/// One logged-in session on the token the options name: the module shared per process, the token found by label or
/// slot, the user logged in with the PIN. Every PKCS#11 failure becomes a <see cref="KeySourceException"/> whose
/// message names the token and the CKR_ code.
/// </summary>
internal sealed class Pkcs11Session : IDisposable
{
    /// <summary>DER of the named curve secp256k1, OID 1.3.132.0.10 (SEC 2), the CKA_EC_PARAMS of every key we use.</summary>
    public static readonly byte[] Secp256k1Parameters = [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A];

    private readonly Pkcs11Module _module;
    private bool _disposed;

    private Pkcs11Session(Pkcs11Module module, ISession session, string token)
    {
        _module = module;
        Session = session;
        Token = token;
    }

    public ISession Session { get; }

    /// <summary>"token 'label'" or "slot N", for messages.</summary>
    public string Token { get; }

    public static Pkcs11InteropFactories Factories => Pkcs11Module.Factories;

    public static Pkcs11Session Open(Pkcs11KeyOptions options, ReadOnlySpan<byte> pin, bool readWrite)
    {
        var module = Pkcs11Module.Acquire(options.Module);
        ISession? session = null;
        try
        {
            var (slot, token) = FindSlot(module, options);
            session = Call(token, "opening a session", () => slot.OpenSession(readWrite ? SessionType.ReadWrite : SessionType.ReadOnly));
            var pinBytes = pin.ToArray();
            try
            {
                session.Login(CKU.CKU_USER, pinBytes);
            }
            catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
            {
                // Another session of this process is logged in to the same token: login state is per token.
            }
            catch (Pkcs11Exception e) when (e.RV is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_LEN_RANGE or CKR.CKR_PIN_INVALID)
            {
                throw new KeySourceException(KeySourceErrorCode.WrongPin, $"PKCS#11 {token}: wrong PIN ({e.RV}); the node does not retry, because tokens lock after a few wrong PINs", e);
            }
            catch (Pkcs11Exception e) when (e.RV == CKR.CKR_PIN_LOCKED)
            {
                throw new KeySourceException(KeySourceErrorCode.PinLocked, $"PKCS#11 {token}: the user PIN is locked ({e.RV}); the security officer must reset it", e);
            }
            catch (Pkcs11Exception e)
            {
                throw Device(token, "logging in", e);
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(pinBytes);
            }

            return new Pkcs11Session(module, session, token);
        }
        catch
        {
            session?.Dispose();
            module.Release();
            throw;
        }
    }

    /// <summary>The one object of <paramref name="objectClass"/> labelled <paramref name="label"/>, or null when there is none.</summary>
    public IObjectHandle? FindOne(CKO objectClass, string label)
    {
        var found = Call(Token, "searching for keys", () => Session.FindAllObjects(
        [
            Factories.ObjectAttributeFactory.Create(CKA.CKA_CLASS, objectClass),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label),
        ]));
        return found.Count switch
        {
            0 => null,
            1 => found[0],
            _ => throw new KeySourceException(KeySourceErrorCode.KeyAmbiguous, $"PKCS#11 {Token}: {found.Count} {Describe(objectClass)} objects are labelled '{label}'; a key label must be unique"),
        };
    }

    /// <summary>The address of the secp256k1 public key object labelled <paramref name="label"/>.</summary>
    public Address ReadAddress(string label)
    {
        var publicKey = FindOne(CKO.CKO_PUBLIC_KEY, label)
            ?? throw new KeySourceException(KeySourceErrorCode.UnsupportedKey, $"PKCS#11 {Token}: no public key labelled '{label}' beside the private key, so its address is unknown");
        var attributes = Call(Token, "reading the public key", () => Session.GetAttributeValue(publicKey, [CKA.CKA_KEY_TYPE, CKA.CKA_EC_PARAMS, CKA.CKA_EC_POINT]));
        if (attributes[0].CannotBeRead || attributes[0].GetValueAsUlong() != (ulong)CKK.CKK_EC
            || attributes[1].CannotBeRead || !attributes[1].GetValueAsByteArray().AsSpan().SequenceEqual(Secp256k1Parameters))
        {
            throw new KeySourceException(KeySourceErrorCode.UnsupportedKey, $"PKCS#11 {Token}: the key labelled '{label}' is not a secp256k1 EC key (CKA_EC_PARAMS must be OID 1.3.132.0.10)");
        }

        var point = attributes[2].CannotBeRead ? null : UncompressedPoint(attributes[2].GetValueAsByteArray());
        return point is null
            ? throw new KeySourceException(KeySourceErrorCode.UnsupportedKey, $"PKCS#11 {Token}: the public key labelled '{label}' has no readable uncompressed CKA_EC_POINT")
            : Address.FromPublicKey(point.AsSpan(1));
    }

    /// <summary>Runs a PKCS#11 call, turning its failure into a clear error that names the token.</summary>
    public static T Call<T>(string token, string doing, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Pkcs11Exception e)
        {
            throw Device(token, doing, e);
        }
    }

    public static KeySourceException Device(string token, string doing, Pkcs11Exception e)
    {
        var code = e.RV is CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_DEVICE_REMOVED or CKR.CKR_SLOT_ID_INVALID or CKR.CKR_TOKEN_NOT_RECOGNIZED
            ? KeySourceErrorCode.TokenNotFound
            : KeySourceErrorCode.DeviceError;
        return new KeySourceException(code, $"PKCS#11 {token}: {doing} failed ({e.RV})", e);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            Session.Dispose();
        }
        catch (Pkcs11Exception)
        {
            // The token or module is already gone; nothing is left to close.
        }

        _module.Release();
    }

    /// <summary>0x04‖x‖y from CKA_EC_POINT: a DER OCTET STRING around it (PKCS#11 v2.40) or, from some modules, the raw point.</summary>
    internal static byte[]? UncompressedPoint(byte[] value)
    {
        if (value.Length == 65 && value[0] == 0x04)
        {
            return value;
        }

        return value.Length == 67 && value[0] == 0x04 && value[1] == 65 && value[2] == 0x04 ? value[2..] : null;
    }

    private static (ISlot Slot, string Token) FindSlot(Pkcs11Module module, Pkcs11KeyOptions options)
    {
        var wanted = options.Slot is { } id ? $"slot {id}" : $"token '{options.TokenLabel}'";
        var slots = Call(wanted, "listing slots", () => module.Library.GetSlotList(SlotsType.WithTokenPresent));
        var matches = new List<ISlot>();
        foreach (var slot in slots)
        {
            if (options.Slot is { } slotId)
            {
                if (slot.SlotId == slotId)
                {
                    matches.Add(slot);
                }

                continue;
            }

            ITokenInfo info;
            try
            {
                info = slot.GetTokenInfo();
            }
            catch (Pkcs11Exception)
            {
                continue; // a token removed while we looked is simply not there
            }

            if (string.Equals(info.Label.TrimEnd(' ', '\0'), options.TokenLabel, StringComparison.Ordinal))
            {
                matches.Add(slot);
            }
        }

        return matches.Count switch
        {
            1 => (matches[0], wanted),
            0 => throw new KeySourceException(KeySourceErrorCode.TokenNotFound, $"PKCS#11 module '{options.Module}' has no {wanted} (absent, removed, or not initialised)"),
            _ => throw new KeySourceException(KeySourceErrorCode.TokenNotFound, $"PKCS#11 module '{options.Module}' has {matches.Count} tokens labelled '{options.TokenLabel}'; name the slot instead"),
        };
    }

    private static string Describe(CKO objectClass) => objectClass == CKO.CKO_PRIVATE_KEY ? "private-key" : "public-key";
}
