using System.Buffers.Binary;
using System.Collections.Immutable;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Blocks;

/// <summary>
/// Proof that a block is final: at least a quorum (⌈2n/3⌉) of distinct validators sealed its header
/// (see <see cref="CommitSeal"/>). Anyone holding the validator set checks it offline with <see cref="Verify"/>.
/// Seals are kept in the order of the signers' addresses so one set of seals has one encoding.
/// </summary>
public sealed record CommitCertificate(long Height, int Round, Hash256 HeaderHash, ImmutableArray<Signature> Seals)
{
    public const byte EncodingVersion = 1;

    private const int FixedSize = 1 + 8 + 4 + 32 + 2;

    /// <summary>Gathers seals into a certificate, ordered by signer address (the signers must be recoverable).</summary>
    public static CommitCertificate FromSeals(ISignatureScheme curve, in Hash256 domainSeparator, BlockHeader header, IEnumerable<Signature> seals)
    {
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentNullException.ThrowIfNull(header);
        var digest = CommitSeal.Digest(CryptoSuite.For(curve.Suite), domainSeparator, header.Hash, header.Height, header.Round);
        var ordered = new List<(Address Signer, Signature Seal)>();
        foreach (var seal in seals)
        {
            if (curve.Recover(digest, seal, out var signer) != SignatureCheck.Ok)
            {
                throw new ArgumentException($"seal {seal} does not recover to a signer", nameof(seals));
            }

            ordered.Add((signer, seal));
        }

        ordered.Sort((a, b) => a.Signer.CompareTo(b.Signer));
        return new CommitCertificate(header.Height, header.Round, header.Hash, [.. ordered.Select(o => o.Seal)]);
    }

    /// <summary>
    /// Checks this certificate against <paramref name="header"/> and the validator set in force at its height:
    /// it must name the header (hash and height) and a round no earlier than the header's (a block re-proposed by
    /// consensus keeps the round it was first proposed in and is committed in a later one; docs/consensus.md), the
    /// header must name the set, and every seal must be a valid, low-s signature by a distinct member over
    /// (header hash, height, certificate round), in address order, with at least a quorum of them. The header and
    /// every seal must be of <paramref name="curve"/>'s crypto suite (a gm certificate never verifies under eth, nor
    /// the reverse: <see cref="CertificateCheck.WrongSuite"/>).
    /// </summary>
    public CertificateVerdict Verify(BlockHeader header, ValidatorSet validators, in Hash256 domainSeparator, ISignatureScheme curve)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentNullException.ThrowIfNull(curve);
        if (header.Crypto != curve.Suite)
        {
            return CertificateVerdict.Fail(CertificateCheck.WrongSuite, $"the header is of the {header.Crypto.ToName()} crypto suite, the verifier's is {curve.Suite.ToName()}");
        }

        if (HeaderHash != header.Hash || Height != header.Height || Round < header.Round)
        {
            return CertificateVerdict.Fail(CertificateCheck.HeaderMismatch, $"certificate is for {HeaderHash} at height {Height} round {Round}, header is {header.Hash} at height {header.Height} proposed in round {header.Round}");
        }

        if (header.ValidatorSetHash != validators.Hash)
        {
            return CertificateVerdict.Fail(CertificateCheck.ValidatorSetMismatch, $"header names validator set {header.ValidatorSetHash}, the given set is {validators.Hash}");
        }

        var digest = CommitSeal.Digest(CryptoSuite.For(curve.Suite), domainSeparator, HeaderHash, Height, Round);
        Address? previous = null;
        for (var i = 0; i < Seals.Length; i++)
        {
            if (Seals[i].Suite != curve.Suite)
            {
                return CertificateVerdict.Fail(CertificateCheck.WrongSuite, $"seal {i} is a {Seals[i].Suite.ToName()} signature; this chain's suite is {curve.Suite.ToName()}");
            }

            // One set of seals has one encoding: v is 27 or 28, as wallets write it (the raw recovery id 0/1 is refused).
            if (Seals[i].Suite == CryptoSuiteId.Eth && Seals[i].V is not (27 or 28))
            {
                return CertificateVerdict.Fail(CertificateCheck.NotCanonical, $"seal {i} has v = {Seals[i].V}; seals carry v = 27 or 28");
            }

            var check = curve.Recover(digest, Seals[i], out var signer);
            if (check != SignatureCheck.Ok)
            {
                return CertificateVerdict.Fail(CertificateCheck.BadSeal, $"seal {i}: {check}");
            }

            if (!validators.Contains(signer))
            {
                return CertificateVerdict.Fail(CertificateCheck.UnknownSigner, $"seal {i} is by {signer}, not a validator");
            }

            if (previous is { } p && signer.CompareTo(p) <= 0)
            {
                return signer == p
                    ? CertificateVerdict.Fail(CertificateCheck.DuplicateSigner, $"seal {i} repeats validator {signer}")
                    : CertificateVerdict.Fail(CertificateCheck.NotCanonical, $"seal {i} is out of address order");
            }

            previous = signer;
        }

        return Seals.Length < validators.Quorum
            ? CertificateVerdict.Fail(CertificateCheck.TooFewSeals, $"{Seals.Length} seals, quorum is {validators.Quorum} of {validators.Count}")
            : CertificateVerdict.Valid;
    }

    /// <summary>
    /// <c>version 1 ‖ height u64 ‖ round u32 ‖ header hash 32 ‖ count u16 ‖ seals</c>, each seal 65 bytes (eth) or 128
    /// (gm); all seals of one certificate are of one suite, and the length says which.
    /// </summary>
    public byte[] Encode()
    {
        var sealSize = Seals.Length == 0 ? Signature.Size : Seals[0].Bytes.Length;
        if (Seals.Any(s => s.Bytes.Length != sealSize))
        {
            throw new InvalidOperationException("a certificate's seals are all of one crypto suite");
        }

        var bytes = new byte[FixedSize + (Seals.Length * sealSize)];
        bytes[0] = EncodingVersion;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), Height);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(9), Round);
        HeaderHash.CopyTo(bytes.AsSpan(13));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(45), checked((ushort)Seals.Length));
        for (var i = 0; i < Seals.Length; i++)
        {
            Seals[i].Bytes.CopyTo(bytes.AsSpan(FixedSize + (i * sealSize)));
        }

        return bytes;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, out CommitCertificate? certificate, out string? error)
    {
        certificate = null;
        if (bytes.Length < FixedSize || bytes[0] != EncodingVersion)
        {
            error = bytes.Length < FixedSize ? "certificate too short" : $"unknown certificate encoding version {bytes[0]}";
            return false;
        }

        var count = BinaryPrimitives.ReadUInt16BigEndian(bytes[45..]);
        var sealSize = count > 0 && bytes.Length == FixedSize + (count * Signature.Sm2Size) ? Signature.Sm2Size : Signature.Size;
        if (bytes.Length != FixedSize + (count * sealSize))
        {
            error = $"certificate announces {count} seals but has {bytes.Length - FixedSize} seal bytes";
            return false;
        }

        var height = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        var round = BinaryPrimitives.ReadInt32BigEndian(bytes[9..]);
        if (height < 0 || round < 0)
        {
            error = "negative height or round";
            return false;
        }

        var seals = ImmutableArray.CreateBuilder<Signature>(count);
        for (var i = 0; i < count; i++)
        {
            _ = Signature.TryRead(bytes.Slice(FixedSize + (i * sealSize), sealSize), out var seal);
            seals.Add(seal);
        }

        certificate = new CommitCertificate(height, round, new Hash256(bytes.Slice(13, 32)), seals.MoveToImmutable());
        error = null;
        return true;
    }
}

/// <summary>Why a certificate does not prove finality.</summary>
public enum CertificateCheck
{
    Valid = 0,
    HeaderMismatch,
    ValidatorSetMismatch,
    BadSeal,
    UnknownSigner,
    DuplicateSigner,
    NotCanonical,
    TooFewSeals,

    /// <summary>The header or a seal is of the other crypto suite than the verifier's.</summary>
    WrongSuite,
}

/// <summary>The verdict on a certificate with a precise, human-readable reason.</summary>
public readonly record struct CertificateVerdict(CertificateCheck Check, string Reason)
{
    public static CertificateVerdict Valid { get; } = new(CertificateCheck.Valid, "valid");

    public bool IsValid => Check == CertificateCheck.Valid;

    public static CertificateVerdict Fail(CertificateCheck check, string reason) => new(check, reason);
}
