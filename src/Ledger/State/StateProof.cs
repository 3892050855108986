using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.State;

/// <summary>The leaf a state proof's path ends at: its key and the hash of its value.</summary>
public readonly record struct StateProofLeaf(Hash256 Key, Hash256 ValueHash);

/// <summary>
/// Proves the value of a key in a state root, or its absence, with nothing but hashes: the siblings along the key's
/// path from the root (<see cref="Siblings"/>[0] is the root's other child, <see cref="StateHashing.Empty"/> for an
/// empty one) down to where the path ends, and the leaf found there, if any. The key is present when that leaf has
/// the key; absent when the path ends in an empty subtree or at the leaf of another key sharing the path.
/// </summary>
/// <remarks>
/// Binary form, version 1 (all integers big-endian):
/// <code>
/// 0x01                          format version
/// 0x00 | 0x01                   the path ends in an empty subtree | at a leaf, then:
///   key (32) ‖ value hash (32)    the leaf's key and Keccak-256 of its value
/// depth (2)                     number of siblings, 0‥256
/// bitmap (⌈depth/8⌉)            bit i (most significant first) set when sibling i is not the empty subtree;
///                               bits past depth are 0
/// sibling (32) × popcount       the non-empty siblings, root side first
/// </code>
/// Any other byte string is rejected, so a proof has exactly one encoding. The JSON form is
/// <c>{"version":1,"leaf":{"key":"0x…","valueHash":"0x…"}|null,"siblings":["0x…",…]}</c> with every sibling listed,
/// empty ones as 32 zero bytes.
/// </remarks>
public sealed class StateProof
{
    public const byte FormatVersion = 1;

    /// <summary>A path never goes deeper than the 256 bits of a key.</summary>
    public const int MaxDepth = 256;

    private const byte EndsEmpty = 0x00;
    private const byte EndsAtLeaf = 0x01;

    public StateProof(StateProofLeaf? leaf, Hash256[] siblings)
    {
        ArgumentNullException.ThrowIfNull(siblings);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(siblings.Length, MaxDepth);
        Leaf = leaf;
        Siblings = ImmutableCollectionsMarshal.AsImmutableArray(siblings);
    }

    public StateProofLeaf? Leaf { get; }

    public ImmutableArray<Hash256> Siblings { get; }

    /// <summary>
    /// True when this proof shows that in the state with root <paramref name="root"/>, <paramref name="key"/> has the
    /// value <paramref name="expectedValue"/>, or, when that is null, that the key is absent.
    /// The hashes are <paramref name="suite"/>'s (the chain's), so a proof of one suite never verifies under the other.
    /// </summary>
    public bool Verify(in Hash256 root, in Hash256 key, byte[]? expectedValue, CryptoSuite suite) => Verify(root, key, expectedValue, Leaf, Siblings.AsSpan(), suite);

    /// <summary>Decodes <paramref name="encoded"/> and verifies it in <paramref name="suite"/>; a malformed proof verifies nothing. Allocation-free.</summary>
    public static bool Verify(ReadOnlySpan<byte> encoded, in Hash256 root, in Hash256 key, byte[]? expectedValue, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var siblings = ArrayPool<Hash256>.Shared.Rent(MaxDepth);
        try
        {
            return TryDecode(encoded, out var leaf, siblings, out var depth) && Verify(root, key, expectedValue, leaf, siblings.AsSpan(0, depth), suite);
        }
        finally
        {
            ArrayPool<Hash256>.Shared.Return(siblings);
        }
    }

    private static bool Verify(in Hash256 root, in Hash256 key, byte[]? expectedValue, StateProofLeaf? leaf, ReadOnlySpan<Hash256> siblings, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var depth = siblings.Length;
        Hash256 node;
        if (expectedValue is not null)
        {
            if (leaf is not { } own || own.Key != key || own.ValueHash != StateHashing.ValueHash(suite, expectedValue))
            {
                return false;
            }

            node = StateHashing.Leaf(suite, own.Key, own.ValueHash);
        }
        else if (leaf is { } other)
        {
            // Absent: the path ends at another key's leaf, which must lie on this key's path.
            if (other.Key == key || !SharePrefix(other.Key, key, depth))
            {
                return false;
            }

            node = StateHashing.Leaf(suite, other.Key, other.ValueHash);
        }
        else
        {
            node = StateHashing.Empty;
        }

        for (var d = depth - 1; d >= 0; d--)
        {
            node = key.Bit(d) == 0 ? StateHashing.Internal(suite, node, siblings[d]) : StateHashing.Internal(suite, siblings[d], node);
        }

        return node == root;
    }

    public byte[] Encode()
    {
        var depth = Siblings.Length;
        var bitmapLength = (depth + 7) / 8;
        var nonEmpty = 0;
        foreach (var sibling in Siblings)
        {
            nonEmpty += sibling.IsZero ? 0 : 1;
        }

        var leafLength = Leaf is null ? 0 : 2 * Hash256.Size;
        var encoded = new byte[2 + leafLength + 2 + bitmapLength + (nonEmpty * Hash256.Size)];
        encoded[0] = FormatVersion;
        encoded[1] = Leaf is null ? EndsEmpty : EndsAtLeaf;
        var offset = 2;
        if (Leaf is { } leaf)
        {
            leaf.Key.CopyTo(encoded.AsSpan(offset));
            leaf.ValueHash.CopyTo(encoded.AsSpan(offset + Hash256.Size));
            offset += leafLength;
        }

        BinaryPrimitives.WriteUInt16BigEndian(encoded.AsSpan(offset), (ushort)depth);
        var bitmap = encoded.AsSpan(offset + 2, bitmapLength);
        offset += 2 + bitmapLength;
        for (var i = 0; i < depth; i++)
        {
            if (!Siblings[i].IsZero)
            {
                bitmap[i >> 3] |= (byte)(0x80 >> (i & 7));
                Siblings[i].CopyTo(encoded.AsSpan(offset));
                offset += Hash256.Size;
            }
        }

        return encoded;
    }

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out StateProof? proof)
    {
        var siblings = new Hash256[MaxDepth];
        proof = TryDecode(encoded, out var leaf, siblings, out var depth) ? new StateProof(leaf, siblings[..depth]) : null;
        return proof is not null;
    }

    /// <summary>Decodes into <paramref name="siblings"/> (room for <see cref="MaxDepth"/>); rejects every non-canonical form.</summary>
    private static bool TryDecode(ReadOnlySpan<byte> encoded, out StateProofLeaf? leaf, Span<Hash256> siblings, out int depth)
    {
        leaf = null;
        depth = 0;
        if (encoded.Length < 4 || encoded[0] != FormatVersion || encoded[1] is not (EndsEmpty or EndsAtLeaf))
        {
            return false;
        }

        var rest = encoded[2..];
        if (encoded[1] == EndsAtLeaf)
        {
            if (rest.Length < (2 * Hash256.Size) + 2)
            {
                return false;
            }

            leaf = new StateProofLeaf(new Hash256(rest[..Hash256.Size]), new Hash256(rest.Slice(Hash256.Size, Hash256.Size)));
            rest = rest[(2 * Hash256.Size)..];
        }

        depth = BinaryPrimitives.ReadUInt16BigEndian(rest);
        var bitmapLength = (depth + 7) / 8;
        if (depth > MaxDepth || rest.Length < 2 + bitmapLength)
        {
            return false;
        }

        var bitmap = rest.Slice(2, bitmapLength);
        var hashes = rest[(2 + bitmapLength)..];
        if (depth % 8 != 0 && (bitmap[^1] & (0xFF >> (depth % 8))) != 0)
        {
            return false;
        }

        var used = 0;
        for (var i = 0; i < depth; i++)
        {
            if ((bitmap[i >> 3] & (0x80 >> (i & 7))) == 0)
            {
                siblings[i] = StateHashing.Empty;
                continue;
            }

            if (hashes.Length < used + Hash256.Size)
            {
                return false;
            }

            siblings[i] = new Hash256(hashes.Slice(used, Hash256.Size));
            used += Hash256.Size;
            if (siblings[i].IsZero)
            {
                return false;
            }
        }

        return used == hashes.Length;
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            if (Leaf is { } leaf)
            {
                json.WriteStartObject("leaf");
                json.WriteString("key", leaf.Key.ToString());
                json.WriteString("valueHash", leaf.ValueHash.ToString());
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("leaf");
            }

            json.WriteStartArray("siblings");
            foreach (var sibling in Siblings)
            {
                json.WriteStringValue(sibling.ToString());
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public static bool TryParseJson(string json, [NotNullWhen(true)] out StateProof? proof)
    {
        proof = null;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("version", out var version) || !version.TryGetInt32(out var v) || v != FormatVersion
                || !root.TryGetProperty("leaf", out var leafElement)
                || !root.TryGetProperty("siblings", out var siblingsElement) || siblingsElement.ValueKind != JsonValueKind.Array
                || siblingsElement.GetArrayLength() > MaxDepth)
            {
                return false;
            }

            StateProofLeaf? leaf = null;
            if (leafElement.ValueKind != JsonValueKind.Null)
            {
                if (leafElement.ValueKind != JsonValueKind.Object
                    || !TryReadHash(leafElement, "key", out var key) || !TryReadHash(leafElement, "valueHash", out var valueHash))
                {
                    return false;
                }

                leaf = new StateProofLeaf(key, valueHash);
            }

            var siblings = new Hash256[siblingsElement.GetArrayLength()];
            var i = 0;
            foreach (var sibling in siblingsElement.EnumerateArray())
            {
                if (sibling.ValueKind != JsonValueKind.String || !Hash256.TryParse(sibling.GetString(), out siblings[i++]))
                {
                    return false;
                }
            }

            proof = new StateProof(leaf, siblings);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool TryReadHash(JsonElement parent, string name, out Hash256 hash)
    {
        hash = default;
        return parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String && Hash256.TryParse(element.GetString(), out hash);
    }

    /// <summary>Whether the first <paramref name="bits"/> bits of the two keys agree.</summary>
    private static bool SharePrefix(in Hash256 a, in Hash256 b, int bits)
    {
        var fullBytes = bits / 8;
        if (!a.Bytes[..fullBytes].SequenceEqual(b.Bytes[..fullBytes]))
        {
            return false;
        }

        var remaining = bits % 8;
        return remaining == 0 || ((a.Bytes[fullBytes] ^ b.Bytes[fullBytes]) & (0xFF << (8 - remaining)) & 0xFF) == 0;
    }
}
