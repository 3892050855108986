using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;

namespace SmartCity.Ledger.State;

/// <summary>
/// A state key: its canonical text (ASCII path); its place in the state tree is the chain suite's hash of that text
/// (<see cref="HashIn"/>: Keccak-256 for eth, SM3 for gm).
/// </summary>
public readonly record struct StateKey(string Text)
{
    /// <summary>The 256-bit tree key: H(ASCII text) with H the chain's suite hash.</summary>
    public Hash256 HashIn(CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var text = Text ?? string.Empty;
        if (text.Length > 256)
        {
            return suite.Hash(Encoding.ASCII.GetBytes(text));
        }

        // A key is hashed several times, and not only within its transaction: the rule checks, writes and indexes a
        // record's key, the signer's nonce is read and written, and the projector reads the block's keys again after
        // the whole block. The keys hashed on this thread are kept in a table of their own (KeyHashCache).
        return (_hashes ??= new()).Get(text, suite);
    }

    [ThreadStatic]
    private static KeyHashCache? _hashes;

    public override string ToString() => Text;
}

/// <summary>
/// The state layout. Addresses and ids are lower-case 0x hex; licence identifiers and subjects as written.
/// </summary>
public static class StateKeys
{
    public static StateKey Member(Address address) => new(MemberTexts.Get(address, static a => WithHex("member/", a)));

    /// <summary>The index entry of a member's USCC (value: the member's address).</summary>
    public static StateKey MemberUscc(string uscc) => new($"member-uscc/{uscc}");

    public static StateKey MemberCount { get; } = new("member-count");

    public static StateKey Validator(Address address) => new(WithHex("validator/", address));

    public static StateKey ValidatorSet { get; } = new("validator-set");

    /// <summary>The chain's crypto suite, SM2 identifier and the digest of the whole genesis (<see cref="ChainParametersState"/>), written once at genesis.</summary>
    public static StateKey ChainParameters { get; } = new("chain-parameters");

    public static StateKey Nonce(Address address) => new(NonceTexts.Get(address, static a => WithHex("nonce/", a)));

    public static StateKey Record(Hash256 recordId) => new(RecordTexts.Get(recordId, static id => $"record/{id}"));

    public static StateKey RecordVersion(Hash256 recordId, uint version)
        => new(RecordVersionTexts.Get((recordId, version), static k => $"record/{k.Item1}/v/{k.Item2}"));

    public static StateKey Objection(Hash256 objectionId) => new($"objection/{objectionId}");

    public static StateKey Licence(string identifier) => new($"licence/{identifier}");

    public static StateKey ListEntry(Hash256 entryId) => new($"list/{entryId}");

    public static StateKey Memorandum(Hash256 memorandumId) => new($"memo/{memorandumId}");

    public static StateKey Feedback(Hash256 feedbackId) => new($"feedback/{feedbackId}");

    public static StateKey Proposal(Hash256 proposalId) => new($"proposal/{proposalId}");

    public static StateKey Vote(Hash256 proposalId, Address voter) => new($"vote/{proposalId}/{Hex(voter.Bytes)}");

    /// <summary>The key of an object stored under a 32-byte id.</summary>
    public static StateKey Of(StateObject obj, Hash256 id) => obj switch
    {
        StateObject.Record => Record(id),
        StateObject.Objection => Objection(id),
        StateObject.ListEntry => ListEntry(id),
        StateObject.Memorandum => Memorandum(id),
        StateObject.Feedback => Feedback(id),
        StateObject.Proposal => Proposal(id),
        _ => throw new ArgumentOutOfRangeException(nameof(obj), obj, "licences are keyed by their identifier"),
    };

    /// <summary>The subject's index: summaries of its records and list entries (<see cref="SubjectIndexState"/>), for scoring.</summary>
    public static StateKey SubjectIndex(string subject) => new($"subject/{subject}");

    /// <summary>The ids of the memoranda for one list; the list type is free text, so the key holds its hash in the chain's suite.</summary>
    public static StateKey MemorandaOfList(ListColour colour, string listType, CryptoSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return new($"memoranda/{(colour == ListColour.Red ? "red" : "black")}/{suite.Hash(Encoding.UTF8.GetBytes(listType))}");
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    /// <summary><paramref name="prefix"/>, 0x and the address's 40 lower-case hex digits, in one allocation (read for every transaction).</summary>
    private static string WithHex(string prefix, Address address)
        => string.Create(prefix.Length + 2 + (2 * Address.Size), (prefix, address), static (chars, key) =>
        {
            key.prefix.CopyTo(chars);
            chars[key.prefix.Length] = '0';
            chars[key.prefix.Length + 1] = 'x';
            Convert.TryToHexStringLower(key.address.Bytes, chars[(key.prefix.Length + 2)..], out _);
        });

    // The texts of the last few keys of each kind made on this thread. A transaction names the same keys several
    // times (a record's key when its rule checks it, writes it, indexes it and projects it; the signer's member and
    // nonce keys on admission, in the block and when the mempool settles), and each text is a new string of ~70
    // characters: they were a tenth of the bytes a loaded node allocated. Strings are immutable, so a text handed out
    // twice is safe.
    [ThreadStatic]
    private static RecentValues<Hash256, string>? _recordTexts;

    [ThreadStatic]
    private static RecentValues<(Hash256, uint), string>? _recordVersionTexts;

    [ThreadStatic]
    private static RecentValues<Address, string>? _memberTexts;

    [ThreadStatic]
    private static RecentValues<Address, string>? _nonceTexts;

    private static RecentValues<Hash256, string> RecordTexts => _recordTexts ??= new(4);

    private static RecentValues<(Hash256, uint), string> RecordVersionTexts => _recordVersionTexts ??= new(4);

    private static RecentValues<Address, string> MemberTexts => _memberTexts ??= new(4);

    private static RecentValues<Address, string> NonceTexts => _nonceTexts ??= new(4);
}

/// <summary>
/// The values of the last few keys asked for, most recent replacing the oldest: for a thread that asks for the same
/// few keys again and again and whose values cost more to make than to find among a handful (not thread-safe: one a thread).
/// </summary>
internal sealed class RecentValues<TKey, TValue>(int size)
    where TKey : IEquatable<TKey>
{
    private readonly TKey[] _keys = new TKey[size];
    private readonly TValue[] _values = new TValue[size];
    private int _filled;
    private int _next;

    public TValue Get(TKey key, Func<TKey, TValue> make)
    {
        for (var i = 0; i < _filled; i++)
        {
            if (_keys[i].Equals(key))
            {
                return _values[i];
            }
        }

        var made = make(key);
        _keys[_next] = key;
        _values[_next] = made;
        _next = (_next + 1) % _keys.Length;
        _filled = Math.Min(_filled + 1, _keys.Length); // slots fill from the first on
        return made;
    }
}

/// <summary>
/// The tree hashes of the state keys a thread hashed lately: a direct-mapped table of 4,096 slots (a block's keys, a few
/// thousand, fit), a slot chosen by the key text's last characters (where its id is) and its length, the text compared
/// whole before a hash is reused. A key whose slot another took is hashed again; nothing is ever wrong, only slower.
/// Not thread-safe: one a thread.
/// </summary>
internal sealed class KeyHashCache
{
    private const int Slots = 4096;

    private readonly string?[] _texts = new string?[Slots];
    private readonly CryptoSuite?[] _suites = new CryptoSuite?[Slots];
    private readonly Hash256[] _hashes = new Hash256[Slots];

    public Hash256 Get(string text, CryptoSuite suite)
    {
        var slot = SlotOf(text);
        if (ReferenceEquals(_suites[slot], suite) && string.Equals(_texts[slot], text, StringComparison.Ordinal))
        {
            return _hashes[slot];
        }

        // Keys are short: encode on the stack (hashed on every state read and write, a heap copy each time showed).
        Span<byte> ascii = stackalloc byte[text.Length];
        Encoding.ASCII.GetBytes(text, ascii);
        var hash = suite.Hash(ascii);
        _texts[slot] = text;
        _suites[slot] = suite;
        _hashes[slot] = hash;
        return hash;
    }

    // The last eight characters (an id's hex digits, in most keys) and the length, mixed by a multiply; a short key's
    // characters as they are.
    internal static int SlotOf(string text)
    {
        ulong mixed = 0;
        foreach (var c in text.AsSpan(Math.Max(0, text.Length - 8)))
        {
            mixed = (mixed << 8) ^ c;
        }

        mixed ^= (ulong)text.Length * 0x100000001B3UL;
        return (int)((mixed * 0x9E3779B97F4A7C15UL) >> 52); // the top 12 bits: 0-4095
    }
}
