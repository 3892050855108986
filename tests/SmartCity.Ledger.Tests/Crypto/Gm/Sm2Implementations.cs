using SmartCity.Ledger.Crypto.Gm;

namespace SmartCity.Ledger.Tests.Crypto.Gm;

/// <summary>Both SM2 implementations by name, so every SM2 test runs against native and managed alike.</summary>
public static class Sm2Implementations
{
    public const string Native = "native";
    public const string Managed = "managed";

    public static TheoryData<string> Both => [Native, Managed];

    /// <summary>The native one must load on development machines and CI (libssl3 is in Debian 12's base system).</summary>
    public static ISm2 Get(string name, string distinguishingId = Sm2.DefaultDistinguishingId) => name switch
    {
        Native => Sm2.TryCreateNative(distinguishingId, out var reason) ?? throw new InvalidOperationException(reason),
        Managed => Sm2.CreateManaged(distinguishingId),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>SM3 by the named path.</summary>
    public static byte[] Sm3Of(string name, ReadOnlySpan<byte> data)
    {
        var output = new byte[32];
        if (name == Native)
        {
            Assert.True(Sm3.TryHashNative(data, output), "libcrypto.so.3 must load with SM3");
        }
        else
        {
            Sm3.HashManaged(data, output);
        }

        return output;
    }
}
