using System.Buffers.Binary;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage;

/// <summary>
/// A signed API request to record in the access log, as the API layer hands it over: <c>Timestamp</c> is the Unix
/// milliseconds at which the node accepted it, <c>RequestDigest</c> the chain suite's hash of the request the requester
/// signed and <c>Signature</c> the requester's signature over it (65 bytes eth, 128 bytes gm).
/// </summary>
public sealed record AccessRequest(
    Address Requester,
    string Method,
    string Subject,
    long Timestamp,
    Hash256 RequestDigest,
    ReadOnlyMemory<byte> Signature);

/// <summary>
/// One entry of the append-only, hash-chained access log: <see cref="EntryHash"/> commits to every field and to
/// <see cref="PreviousHash"/>, the previous entry's hash (zero for sequence 0), so removing, reordering or editing
/// an entry breaks the chain (see <see cref="AccessLogChain"/>).
/// </summary>
public sealed record AccessLogEntry(long Sequence, AccessRequest Request, Hash256 PreviousHash, Hash256 EntryHash);

/// <summary>The outcome of re-hashing the access log: intact, or the first entry whose hash or link is wrong.</summary>
public readonly record struct AccessLogVerification(long EntriesChecked, long? FirstBrokenSequence)
{
    public bool IsIntact => FirstBrokenSequence is null;
}

/// <summary>The hash chain of the access log, shared by every store so a log verifies the same everywhere.</summary>
public static class AccessLogChain
{
    private const byte DomainTag = 0xA1;

    /// <summary>
    /// H over <c>0xA1 ‖ sequence ‖ requester ‖ method ‖ subject ‖ timestamp ‖ digest ‖ signature ‖ previous</c>,
    /// integers big-endian 64-bit, strings and the signature prefixed by their 32-bit big-endian byte length. H is the
    /// hash of the suite the entry's signature belongs to: SM3 for a 128-byte SM2 signature (a gm chain), Keccak-256
    /// otherwise. The stores keep no genesis, so the entry itself says its suite, and an eth log is unchanged.
    /// </summary>
    public static Hash256 ComputeEntryHash(long sequence, AccessRequest request, Hash256 previousHash)
    {
        ArgumentNullException.ThrowIfNull(request);
        var method = Encoding.UTF8.GetByteCount(request.Method);
        var subject = Encoding.UTF8.GetByteCount(request.Subject);
        var length = 1 + 8 + Address.Size + 4 + method + 4 + subject + 8 + Hash256.Size + 4 + request.Signature.Length + Hash256.Size;
        var buffer = new byte[length];
        var span = buffer.AsSpan();
        span[0] = DomainTag;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], sequence);
        request.Requester.Bytes.CopyTo(span[9..]);
        var at = 9 + Address.Size;
        at = WriteLengthPrefixed(span, at, request.Method, method);
        at = WriteLengthPrefixed(span, at, request.Subject, subject);
        BinaryPrimitives.WriteInt64BigEndian(span[at..], request.Timestamp);
        at += 8;
        request.RequestDigest.CopyTo(span[at..]);
        at += Hash256.Size;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], request.Signature.Length);
        at += 4;
        request.Signature.Span.CopyTo(span[at..]);
        at += request.Signature.Length;
        previousHash.CopyTo(span[at..]);
        return CryptoSuite.For(request.Signature.Length == Signature.Sm2Size ? CryptoSuiteId.Gm : CryptoSuiteId.Eth).Hash(span);
    }

    /// <summary>Seals <paramref name="request"/> as the entry after one whose sequence and hash are given.</summary>
    public static AccessLogEntry Seal(long sequence, AccessRequest request, Hash256 previousHash) =>
        new(sequence, request, previousHash, ComputeEntryHash(sequence, request, previousHash));

    /// <summary>Checks that entries are consecutive, linked and correctly hashed, starting from a log's first entry.</summary>
    public static AccessLogVerification Verify(IEnumerable<AccessLogEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var expectedPrevious = Hash256.Zero;
        long count = 0;
        foreach (var entry in entries)
        {
            if (entry.Sequence != count || entry.PreviousHash != expectedPrevious
                || entry.EntryHash != ComputeEntryHash(entry.Sequence, entry.Request, entry.PreviousHash))
            {
                return new AccessLogVerification(count, count);
            }

            expectedPrevious = entry.EntryHash;
            count++;
        }

        return new AccessLogVerification(count, null);
    }

    private static int WriteLengthPrefixed(Span<byte> span, int at, string text, int byteCount)
    {
        BinaryPrimitives.WriteInt32BigEndian(span[at..], byteCount);
        Encoding.UTF8.GetBytes(text, span[(at + 4)..]);
        return at + 4 + byteCount;
    }
}
