using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// The header every validator seals (DESIGN.md §5). Its canonical encoding is fixed-length and big-endian, so two
/// nodes can only agree on a hash if they agree on every field; the header hash is the chain's crypto suite's hash
/// (Keccak-256 for eth, SM3 for gm) of that encoding. The first byte names the layout and the suite
/// (<see cref="EncodingVersion"/> 1: eth; <see cref="GmEncodingVersion"/> 2: gm, the same fields), so a decoded header
/// hashes in its own suite and a header of one suite never passes for the other's.
/// <list type="bullet">
/// <item><see cref="TransactionRoot"/>: RFC 9162 Merkle root (SHA-256 for eth, SM3 for gm) of this block's transactions' canonical bytes.</item>
/// <item><see cref="HistorySize"/> / <see cref="HistoryRoot"/>: the history tree of every transaction ever committed,
/// after this block's transactions are appended — what a regulator's consistency proof is checked against.</item>
/// <item><see cref="StateRoot"/>: the sparse Merkle state root after this block.</item>
/// </list>
/// </summary>
public sealed record BlockHeader(
    ulong ChainId,
    long Height,
    Hash256 PreviousHash,
    long TimestampMs,
    Address Proposer,
    int Round,
    int TransactionCount,
    Hash256 TransactionRoot,
    Hash256 StateRoot,
    long HistorySize,
    Hash256 HistoryRoot,
    Hash256 ValidatorSetHash)
{
    /// <summary>Version byte of the canonical encoding of an eth header; bump it and keep decoding the old one when fields change.</summary>
    public const byte EncodingVersion = 1;

    /// <summary>Version byte of a gm header: the same fields as <see cref="EncodingVersion"/>, hashed with SM3.</summary>
    public const byte GmEncodingVersion = 2;

    /// <summary>Encoded size: version, chainId, height, previous, timestamp, proposer, round, count, 5 roots/sizes.</summary>
    public const int EncodedSize = 1 + 8 + 8 + 32 + 8 + 20 + 4 + 4 + 32 + 32 + 8 + 32 + 32;

    /// <summary>The last millisecond of 9999-12-31 UTC: the largest time a header may carry (and .NET can represent).</summary>
    public const long MaxTimestampMs = 253_402_300_799_999;

    private Hash256? _hash;

    /// <summary>The copy <c>with</c> makes: every field, but not the cached hash (a changed copy hashes afresh).</summary>
    private BlockHeader(BlockHeader original)
    {
        ChainId = original.ChainId;
        Height = original.Height;
        PreviousHash = original.PreviousHash;
        TimestampMs = original.TimestampMs;
        Proposer = original.Proposer;
        Round = original.Round;
        TransactionCount = original.TransactionCount;
        TransactionRoot = original.TransactionRoot;
        StateRoot = original.StateRoot;
        HistorySize = original.HistorySize;
        HistoryRoot = original.HistoryRoot;
        ValidatorSetHash = original.ValidatorSetHash;
        Crypto = original.Crypto;
    }

    /// <summary>The chain's crypto suite: which hash <see cref="Hash"/> is, and the first byte of the encoding (eth unless set).</summary>
    public CryptoSuiteId Crypto { get; init; } = CryptoSuiteId.Eth;

    /// <summary>The suite's hash (Keccak-256 or SM3) of <see cref="Encode(Span{byte})"/>; computed once.</summary>
    public Hash256 Hash => _hash ??= ComputeHash();

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(TimestampMs);

    public void Encode(Span<byte> destination)
    {
        if (destination.Length < EncodedSize)
        {
            throw new ArgumentException($"a header needs {EncodedSize} bytes", nameof(destination));
        }

        var w = destination;
        w[0] = Crypto == CryptoSuiteId.Gm ? GmEncodingVersion : EncodingVersion;
        BinaryPrimitives.WriteUInt64BigEndian(w[1..], ChainId);
        BinaryPrimitives.WriteInt64BigEndian(w[9..], Height);
        PreviousHash.CopyTo(w[17..]);
        BinaryPrimitives.WriteInt64BigEndian(w[49..], TimestampMs);
        Proposer.Bytes.CopyTo(w[57..]);
        BinaryPrimitives.WriteInt32BigEndian(w[77..], Round);
        BinaryPrimitives.WriteInt32BigEndian(w[81..], TransactionCount);
        TransactionRoot.CopyTo(w[85..]);
        StateRoot.CopyTo(w[117..]);
        BinaryPrimitives.WriteInt64BigEndian(w[149..], HistorySize);
        HistoryRoot.CopyTo(w[157..]);
        ValidatorSetHash.CopyTo(w[189..]);
    }

    public byte[] Encode()
    {
        var bytes = new byte[EncodedSize];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Decodes a canonical header; anything but exactly one well-formed header is a typed failure.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out BlockHeader? header, out string? error)
    {
        header = null;
        if (bytes.Length != EncodedSize)
        {
            error = $"a header is {EncodedSize} bytes, got {bytes.Length}";
            return false;
        }

        if (bytes[0] is not (EncodingVersion or GmEncodingVersion))
        {
            error = $"unknown header encoding version {bytes[0]}";
            return false;
        }

        var timestamp = BinaryPrimitives.ReadInt64BigEndian(bytes[49..]);
        if (timestamp is < 0 or > MaxTimestampMs)
        {
            error = $"timestamp {timestamp} ms is outside 1970-01-01 .. 9999-12-31";
            return false;
        }

        var height = BinaryPrimitives.ReadInt64BigEndian(bytes[9..]);
        var round = BinaryPrimitives.ReadInt32BigEndian(bytes[77..]);
        var count = BinaryPrimitives.ReadInt32BigEndian(bytes[81..]);
        var historySize = BinaryPrimitives.ReadInt64BigEndian(bytes[149..]);
        if (height < 0 || round < 0 || count < 0 || historySize < 0)
        {
            error = "negative height, round, transaction count or history size";
            return false;
        }

        header = new BlockHeader(
            BinaryPrimitives.ReadUInt64BigEndian(bytes[1..]),
            height,
            new Hash256(bytes.Slice(17, 32)),
            timestamp,
            new Address(bytes.Slice(57, 20)),
            round,
            count,
            new Hash256(bytes.Slice(85, 32)),
            new Hash256(bytes.Slice(117, 32)),
            historySize,
            new Hash256(bytes.Slice(157, 32)),
            new Hash256(bytes.Slice(189, 32)))
        {
            Crypto = bytes[0] == GmEncodingVersion ? CryptoSuiteId.Gm : CryptoSuiteId.Eth,
        };
        error = null;
        return true;
    }

    private Hash256 ComputeHash()
    {
        Span<byte> bytes = stackalloc byte[EncodedSize];
        Encode(bytes);
        return CryptoSuite.For(Crypto).Hash(bytes);
    }
}
