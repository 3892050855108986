using System.Buffers;
using System.Runtime.CompilerServices;

namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>hashStruct for typed ledger messages: no reflection, no JSON, a stack buffer for up to 16 fields.</summary>
public static class Eip712StructHasher
{
    private const int StackFields = 16;

    /// <summary>keccak256(typeHash ‖ encodeData(value)).</summary>
    public static Hash256 Hash<T>(in T value)
        where T : IEip712Struct
        => Hash(value, null);

    /// <summary>H(typeHash ‖ encodeData(value)) with H the suite's hash (Keccak-256 for eth or null, SM3 for gm) in every place.</summary>
    [SkipLocalsInit]
    public static Hash256 Hash<T>(in T value, CryptoSuite? suite)
        where T : IEip712Struct
    {
        var type = T.StructType;
        var size = Hash256.Size * (type.FieldCount + 1);
        byte[]? rented = null;
        var buffer = type.FieldCount <= StackFields
            ? stackalloc byte[Hash256.Size * (StackFields + 1)]
            : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            var encoded = buffer[..size];
            type.TypeHashIn(suite).CopyTo(encoded);
            var writer = new Eip712StructWriter(encoded[Hash256.Size..], suite);
            value.WriteFields(ref writer);
            writer.EnsureComplete(type);
            return suite is null ? Keccak256.Hash(encoded) : suite.Hash(encoded);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>encodeData of an array of structs: keccak256 of the concatenated struct hashes.</summary>
    public static Hash256 HashArray<T>(ReadOnlySpan<T> values)
        where T : IEip712Struct
        => HashArray(values, null);

    /// <summary>encodeData of an array of structs under <paramref name="suite"/>'s hash (eth when null).</summary>
    public static Hash256 HashArray<T>(ReadOnlySpan<T> values, CryptoSuite? suite)
        where T : IEip712Struct
    {
        var size = Hash256.Size * values.Length;
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            var encoded = rented.AsSpan(0, size);
            for (var i = 0; i < values.Length; i++)
            {
                Hash(values[i], suite).CopyTo(encoded.Slice(Hash256.Size * i, Hash256.Size));
            }

            return suite is null ? Keccak256.Hash(encoded) : suite.Hash(encoded);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
