using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Proofs;

/// <summary>
/// The binary and JSON forms shared by <see cref="InclusionProof"/> and <see cref="ConsistencyProof"/>.
/// Binary, version 1: <c>0x01 ‖ a (8, big-endian) ‖ b (8, big-endian) ‖ n (1) ‖ n × hash (32)</c>, where (a, b) is
/// (leaf index, tree size) or (first size, second size) and the hashes are the path in RFC 9162 order; nothing may
/// follow. JSON: <c>{"version":1,"&lt;a&gt;":…,"&lt;b&gt;":…,"path":["0x…",…]}</c>.
/// </summary>
internal static class HistoryProofEncoding
{
    public const byte FormatVersion = 1;

    /// <summary>A path has at most one hash per level of a tree of 2^63 leaves, plus one.</summary>
    public const int MaxPathLength = 64;

    private const int HeaderLength = 1 + 8 + 8 + 1;

    public static byte[] Encode(long a, long b, ReadOnlySpan<Hash256> path)
    {
        var encoded = new byte[HeaderLength + (path.Length * Hash256.Size)];
        encoded[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(encoded.AsSpan(1), a);
        BinaryPrimitives.WriteInt64BigEndian(encoded.AsSpan(9), b);
        encoded[17] = checked((byte)path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            path[i].CopyTo(encoded.AsSpan(HeaderLength + (i * Hash256.Size)));
        }

        return encoded;
    }

    public static bool TryDecode(ReadOnlySpan<byte> encoded, out long a, out long b, out Hash256[] path)
    {
        (a, b, path) = (0, 0, []);
        if (encoded.Length < HeaderLength || encoded[0] != FormatVersion)
        {
            return false;
        }

        int count = encoded[17];
        if (count > MaxPathLength || encoded.Length != HeaderLength + (count * Hash256.Size))
        {
            return false;
        }

        a = BinaryPrimitives.ReadInt64BigEndian(encoded[1..]);
        b = BinaryPrimitives.ReadInt64BigEndian(encoded[9..]);
        path = new Hash256[count];
        for (var i = 0; i < count; i++)
        {
            path[i] = new Hash256(encoded.Slice(HeaderLength + (i * Hash256.Size), Hash256.Size));
        }

        return true;
    }

    public static string ToJson(string aName, long a, string bName, long b, ReadOnlySpan<Hash256> path)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            json.WriteNumber(aName, a);
            json.WriteNumber(bName, b);
            json.WriteStartArray("path");
            foreach (var hash in path)
            {
                json.WriteStringValue(hash.ToString());
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public static bool TryParseJson(string json, string aName, string bName, out long a, out long b, out Hash256[] path)
    {
        (a, b, path) = (0, 0, []);
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("version", out var version) || !version.TryGetInt32(out var v) || v != FormatVersion
                || !root.TryGetProperty(aName, out var aElement) || !aElement.TryGetInt64(out a)
                || !root.TryGetProperty(bName, out var bElement) || !bElement.TryGetInt64(out b)
                || !root.TryGetProperty("path", out var pathElement) || pathElement.ValueKind != JsonValueKind.Array
                || pathElement.GetArrayLength() > MaxPathLength)
            {
                return false;
            }

            path = new Hash256[pathElement.GetArrayLength()];
            var i = 0;
            foreach (var hash in pathElement.EnumerateArray())
            {
                if (hash.ValueKind != JsonValueKind.String || !Hash256.TryParse(hash.GetString(), out path[i++]))
                {
                    return false;
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
