using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace SmartCity.Grpc;

/// <summary>
/// gRPC metadata: an ordered list of key/value pairs carried as HTTP/2 headers or trailers. Keys are lower-case
/// ASCII (<c>0-9 a-z _ - .</c>); keys ending in <c>-bin</c> carry bytes (base64 on the wire), all others
/// printable ASCII text. Keys starting with <c>grpc-</c> are reserved for the protocol.
/// </summary>
public sealed class Metadata : IReadOnlyList<Metadata.Entry>
{
    public const string BinarySuffix = "-bin";

    private readonly List<Entry> _entries = [];

    public int Count => _entries.Count;

    public Entry this[int index] => _entries[index];

    public Metadata Add(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _entries.Add(entry);
        return this;
    }

    public Metadata Add(string key, string value)
    {
        _entries.Add(new Entry(key, value));
        return this;
    }

    public Metadata Add(string key, byte[] valueBytes)
    {
        _entries.Add(new Entry(key, valueBytes));
        return this;
    }

    /// <summary>The last text value of <paramref name="key"/>, or null.</summary>
    public string? GetValue(string key) => Find(key)?.Value;

    /// <summary>The last binary value of <paramref name="key"/> (a <c>-bin</c> key), or null.</summary>
    public byte[]? GetValueBytes(string key) => Find(key)?.ValueBytes;

    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Entry? Find(string key)
    {
        var normalized = key.ToLowerInvariant();
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == normalized)
            {
                return _entries[i];
            }
        }

        return null;
    }

    internal static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.Ordinal);

    /// <summary>One metadata entry; exactly one of <see cref="Value"/> and <see cref="ValueBytes"/> is set.</summary>
    public sealed class Entry
    {
        public Entry(string key, string value)
        {
            Key = NormalizeKey(key);
            if (IsBinary)
            {
                throw new ArgumentException($"Metadata key '{Key}' ends with '{BinarySuffix}' and needs a byte[] value.", nameof(value));
            }

            foreach (var c in value)
            {
                if (c is < ' ' or > '~')
                {
                    throw new ArgumentException($"Metadata value of '{Key}' must be printable ASCII.", nameof(value));
                }
            }

            Value = value;
        }

        public Entry(string key, byte[] valueBytes)
        {
            Key = NormalizeKey(key);
            if (!IsBinary)
            {
                throw new ArgumentException($"Metadata key '{Key}' carries bytes, so it must end with '{BinarySuffix}'.", nameof(valueBytes));
            }

            ValueBytes = valueBytes;
        }

        public string Key { get; }

        public string? Value { get; }

        public byte[]? ValueBytes { get; }

        [MemberNotNullWhen(true, nameof(ValueBytes))]
        [MemberNotNullWhen(false, nameof(Value))]
        public bool IsBinary => IsBinaryKey(Key);

        public override string ToString() => IsBinary ? $"{Key}: [{ValueBytes.Length} bytes]" : $"{Key}: {Value}";

        private static string NormalizeKey(string key)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            var normalized = key.ToLowerInvariant();
            foreach (var c in normalized)
            {
                if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
                {
                    throw new ArgumentException($"Metadata key '{key}' may only contain 0-9 a-z _ - .", nameof(key));
                }
            }

            return normalized;
        }
    }
}
