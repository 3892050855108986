using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Codec;

/// <summary>
/// EIP-712 <c>encodeData</c> of one struct with atomic and string[] members: each member becomes one 32-byte word
/// (integers and bool left-padded big-endian, address left-padded, bytes32 as is, string H of its UTF-8, string[]
/// H of the concatenated string hashes), H being the chain's crypto suite's hash (Keccak-256 for eth, SM3 for gm).
/// <see cref="HashStruct"/> prefixes the type hash.
/// It complements the crypto layer's encoder: the member list comes from the same <see cref="IFieldWriter"/> call
/// that writes the canonical bytes, so a transaction's EIP-712 type needs no hand-written type string.
/// </summary>
public sealed class Eip712MessageHasher : IFieldWriter
{
    // The type hash of each (primary type, suite) with the members it was computed for: a kind's bodies write the same
    // members every time, so the type string is built and hashed once, not once per transaction.
    private static readonly ConcurrentDictionary<(string PrimaryType, CryptoSuiteId Suite), (List<(string Type, string Name)> Members, Hash256 TypeHash)> TypeHashes = new();

    private readonly ArrayBufferWriter<byte> _words = new(32 * 16);
    private readonly List<(string Type, string Name)> _members = new(16);

    // The string members' UTF-8 and the word each one's hash belongs in: hashed together when the struct is (the
    // eth suite hashes four or eight messages side by side, CryptoSuite.HashMany).
    private readonly ArrayBufferWriter<byte> _strings = new(256);
    private readonly List<int> _stringStarts = new(8);
    private readonly List<int> _stringLengths = new(8);
    private readonly List<int> _stringWords = new(8);
    private string _primaryType;
    private CryptoSuite _suite;

    public Eip712MessageHasher(string primaryType, CryptoSuite suite) => Reset(primaryType, suite);

    /// <summary>Empties the hasher for another struct, keeping its buffers (a thread hashing one transaction after another allocates nothing for them).</summary>
    [MemberNotNull(nameof(_primaryType), nameof(_suite))]
    public void Reset(string primaryType, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(primaryType);
        _primaryType = primaryType;
        _suite = suite;
        _words.ResetWrittenCount();
        _members.Clear();
        _strings.ResetWrittenCount();
        _stringStarts.Clear();
        _stringLengths.Clear();
        _stringWords.Clear();
    }

    /// <summary>The encodeType string, e.g. <c>Vote(uint64 nonce,bytes32 proposalId,bool approve)</c>.</summary>
    public string EncodeType
    {
        get
        {
            var type = new StringBuilder(_primaryType).Append('(');
            for (var i = 0; i < _members.Count; i++)
            {
                type.Append(i == 0 ? "" : ",").Append(_members[i].Type).Append(' ').Append(_members[i].Name);
            }

            return type.Append(')').ToString();
        }
    }

    public Hash256 HashStruct()
    {
        var length = 32 + _words.WrittenCount;
        Span<byte> data = length <= 1024 ? stackalloc byte[length] : new byte[length];
        TypeHash().CopyTo(data);
        _words.WrittenSpan.CopyTo(data[32..]);
        HashStrings(data[32..]);
        return _suite.Hash(data);
    }

    public void UInt8(string name, byte value) => Integer("uint8", name, value);

    public void UInt32(string name, uint value) => Integer("uint32", name, value);

    public void UInt64(string name, ulong value) => Integer("uint64", name, value);

    public void Bool(string name, bool value) => Integer("bool", name, value ? 1UL : 0UL);

    public void Address(string name, Address value)
    {
        Member("address", name);
        Span<byte> word = stackalloc byte[32];
        value.Bytes.CopyTo(word[12..]);
        AddWord(word);
    }

    public void Bytes32(string name, Hash256 value)
    {
        Member("bytes32", name);
        AddWord(value.Bytes);
    }

    public void String(string name, string value)
    {
        Member("string", name);
        var text = (value ?? string.Empty).AsSpan(); // as before: a null string hashes as the empty one
        var written = Encoding.UTF8.GetBytes(text, _strings.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        _stringStarts.Add(_strings.WrittenCount);
        _stringLengths.Add(written);
        _stringWords.Add(_words.WrittenCount);
        _strings.Advance(written);
        _words.GetSpan(32)[..32].Clear(); // the word H(value) goes into when the struct is hashed (HashStrings)
        _words.Advance(32);
    }

    public void StringArray(string name, IReadOnlyList<string> value)
    {
        Member("string[]", name);
        var concatenated = new byte[32 * value.Count];
        for (var i = 0; i < value.Count; i++)
        {
            _suite.HashUtf8(value[i]).CopyTo(concatenated.AsSpan(32 * i));
        }

        AddWord(_suite.Hash(concatenated).Bytes);
    }

    private void Integer(string type, string name, ulong value)
    {
        Member(type, name);
        AddInteger(value);
    }

    private void AddInteger(ulong value)
    {
        Span<byte> word = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64BigEndian(word[24..], value);
        AddWord(word);
    }

    private void Member(string type, string name) => _members.Add((type, name));

    /// <summary>H of every string member's UTF-8, all in one call, into the member's word of <paramref name="words"/>.</summary>
    private void HashStrings(Span<byte> words)
    {
        var count = _stringWords.Count;
        if (count == 0)
        {
            return;
        }

        Span<Hash256> hashes = count <= 16 ? stackalloc Hash256[count] : new Hash256[count];
        _suite.HashMany(_strings.WrittenSpan, CollectionsMarshal.AsSpan(_stringStarts), CollectionsMarshal.AsSpan(_stringLengths), hashes);
        for (var i = 0; i < count; i++)
        {
            hashes[i].CopyTo(words.Slice(_stringWords[i], Hash256.Size));
        }
    }

    /// <summary>H(encodeType) under the suite: the remembered hash when this type was hashed with the same members before.</summary>
    private Hash256 TypeHash()
    {
        var key = (_primaryType, _suite.Id);
        if (TypeHashes.TryGetValue(key, out var known) && SameMembers(known.Members))
        {
            return known.TypeHash;
        }

        var hash = _suite.Hash(Encoding.UTF8.GetBytes(EncodeType));
        TypeHashes[key] = ([.. _members], hash);
        return hash;
    }

    private bool SameMembers(List<(string Type, string Name)> known)
    {
        if (known.Count != _members.Count)
        {
            return false;
        }

        for (var i = 0; i < known.Count; i++)
        {
            if (!string.Equals(known[i].Type, _members[i].Type, StringComparison.Ordinal) || !string.Equals(known[i].Name, _members[i].Name, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private void AddWord(ReadOnlySpan<byte> word) => _words.Write(word);
}
