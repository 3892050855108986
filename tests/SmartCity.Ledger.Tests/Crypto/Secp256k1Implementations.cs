using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Tests.Crypto;

/// <summary>Both implementations by name, so every secp256k1 test runs against native and managed alike.</summary>
public static class Secp256k1Implementations
{
    public const string Native = "native";
    public const string Managed = "managed";

    public static TheoryData<string> Both => [Native, Managed];

    /// <summary>The native one must load on development machines and CI (libsecp256k1-1 is installed by the test script).</summary>
    public static ISecp256k1 Get(string name) => name switch
    {
        Native => NativeSecp256k1.TryLoad(out var native, out var reason) ? native : throw new InvalidOperationException(reason),
        Managed => ManagedSecp256k1.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}
