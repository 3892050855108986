using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Consensus;

/// <summary>
/// The canonical binary form of consensus messages (what the peer protocol carries) and of the journal (what the node
/// persists). Big-endian fixed-width integers, one encoding per value; decoding never throws: bad input is a typed
/// failure with a reason. Layout (docs/consensus.md, "Wire format"):
/// <code>
/// message     = version(1) kind(1) body          version 1: eth, every signature and seal 65 bytes;
///                                                version 2: gm, every signature and seal 128 bytes (SM2 r‖s‖x‖y)
/// PREPARE     = height(8) round(4) blockHash(32) sender(20) signature(65)
/// COMMIT      = height(8) round(4) blockHash(32) seal(65) sender(20) signature(65)
/// ROUND-CHANGE= signedRC hasBlock(1) [block] count(2) PREPARE-body*
/// PROPOSAL    = height(8) round(4) blockHash(32) sender(20) signature(65) block count(2) signedRC* count(2) PREPARE-body*
/// signedRC    = height(8) round(4) prepared(1) preparedRound(4) preparedBlockHash(32) sender(20) signature(65)
/// block       = header(221, docs/receipts.md) count(4) (length(4) transaction)*
/// </code>
/// </summary>
public static class ConsensusCodec
{
    public const byte EncodingVersion = 1;

    /// <summary>Version byte of a message of a gm chain: the same fields, every signature and seal 128 bytes (SM2 r‖s‖x‖y).</summary>
    public const byte GmEncodingVersion = 2;

    /// <summary>Justification lists and prepared certificates hold at most this many entries (a validator set's size).</summary>
    public const int MaxListEntries = 1_024;

    private const byte JournalVersion = 1;

    private const byte GmJournalVersion = 2;

    public static byte[] Encode(ConsensusMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new CanonicalWriter();
        WriteMessage(writer, message);
        return writer.ToArray();
    }

    public static bool TryDecode(ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out ConsensusMessage? message, [NotNullWhen(false)] out string? error)
    {
        var reader = new CanonicalReader(bytes);
        message = ReadMessage(reader);
        if (!reader.Finish() || message is null)
        {
            error = reader.Error ?? "not a consensus message";
            message = null;
            return false;
        }

        error = null;
        return true;
    }

    public static byte[] EncodeJournal(ConsensusJournalState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var writer = new CanonicalWriter();
        var suite = JournalSuite(state);
        writer.WriteByte(suite == CryptoSuiteId.Gm ? GmJournalVersion : JournalVersion);
        writer.WriteUInt64(checked((ulong)state.Height));
        writer.WriteUInt32(checked((uint)state.Round));
        writer.WriteByte(state.LastPrepared is null ? (byte)0 : (byte)1);
        if (state.LastPrepared is { } prepared)
        {
            writer.WriteUInt32(checked((uint)prepared.Round));
            WriteBlock(writer, prepared.Block);
            WritePrepares(writer, prepared.Prepares, suite);
        }

        writer.WriteByte(state.AcceptedProposal is null ? (byte)0 : (byte)1);
        if (state.AcceptedProposal is { } accepted)
        {
            writer.WriteBytes(Encode(accepted));
        }

        writer.WriteUInt16(checked((ushort)state.Sent.Length));
        foreach (var sent in state.Sent)
        {
            writer.WriteBytes(Encode(sent));
        }

        return writer.ToArray();
    }

    public static bool TryDecodeJournal(ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out ConsensusJournalState? state, [NotNullWhen(false)] out string? error)
    {
        state = null;
        var reader = new CanonicalReader(bytes);
        var version = reader.ReadByte();
        if (version is not JournalVersion and not GmJournalVersion && !reader.Failed)
        {
            reader.Fail($"unknown journal version {version}");
        }

        var suite = version == GmJournalVersion ? CryptoSuiteId.Gm : CryptoSuiteId.Eth;

        var height = ReadHeight(reader);
        var round = ReadRound(reader);
        PreparedCertificate? lastPrepared = null;
        if (ReadFlag(reader))
        {
            var preparedRound = ReadRound(reader);
            var block = ReadBlock(reader);
            var prepares = ReadPrepares(reader, suite);
            lastPrepared = block is null ? null : new PreparedCertificate(preparedRound, block, prepares);
        }

        ProposalMessage? accepted = null;
        if (ReadFlag(reader))
        {
            accepted = ReadNested(reader) as ProposalMessage;
            if (accepted is null)
            {
                reader.Fail("the accepted proposal is not a PROPOSAL");
            }
        }

        var count = reader.ReadUInt16();
        var sent = ImmutableArray.CreateBuilder<ConsensusMessage>(Math.Min((int)count, 8));
        for (var i = 0; i < count && !reader.Failed; i++)
        {
            if (ReadNested(reader) is { } message)
            {
                sent.Add(message);
            }
        }

        if (!reader.Finish())
        {
            error = reader.Error!;
            return false;
        }

        state = new ConsensusJournalState(height, round, lastPrepared, accepted, sent.ToImmutable());
        error = null;
        return true;
    }

    private static ConsensusMessage? ReadNested(CanonicalReader reader)
    {
        var bytes = reader.ReadBytes();
        if (reader.Failed)
        {
            return null;
        }

        if (TryDecode(bytes, out var message, out var error))
        {
            return message;
        }

        reader.Fail($"nested message: {error}");
        return null;
    }

    private static void WriteMessage(CanonicalWriter writer, ConsensusMessage message)
    {
        var suite = message.Signature.Suite;
        writer.WriteByte(suite == CryptoSuiteId.Gm ? GmEncodingVersion : EncodingVersion);
        writer.WriteByte((byte)message.Kind);
        switch (message)
        {
            case PrepareMessage prepare:
                WritePrepare(writer, prepare, suite);
                break;
            case CommitMessage commit:
                WriteHeightRoundHash(writer, commit.Height, commit.Round, commit.BlockHash);
                WriteSignature(writer, commit.Seal, suite);
                WriteSenderSignature(writer, commit.Sender, commit.Signature, suite);
                break;
            case RoundChangeMessage roundChange:
                WriteSignedRoundChange(writer, roundChange.Signed, suite);
                writer.WriteByte(roundChange.PreparedBlock is null ? (byte)0 : (byte)1);
                if (roundChange.PreparedBlock is { } block)
                {
                    WriteBlock(writer, block);
                }

                WritePrepares(writer, roundChange.PreparedCertificate, suite);
                break;
            case ProposalMessage proposal:
                WriteHeightRoundHash(writer, proposal.Height, proposal.Round, proposal.BlockHash);
                WriteSenderSignature(writer, proposal.Sender, proposal.Signature, suite);
                WriteBlock(writer, proposal.Block);
                writer.WriteUInt16(checked((ushort)proposal.RoundChanges.Length));
                foreach (var roundChange in proposal.RoundChanges)
                {
                    WriteSignedRoundChange(writer, roundChange, suite);
                }

                WritePrepares(writer, proposal.Prepares, suite);
                break;
            default:
                throw new ArgumentException($"unknown consensus message {message.GetType().Name}", nameof(message));
        }
    }

    private static ConsensusMessage? ReadMessage(CanonicalReader reader)
    {
        var version = reader.ReadByte();
        var kind = reader.ReadByte();
        if (reader.Failed)
        {
            return null;
        }

        if (version is not EncodingVersion and not GmEncodingVersion)
        {
            reader.Fail($"unknown consensus message version {version}");
            return null;
        }

        var suite = version == GmEncodingVersion ? CryptoSuiteId.Gm : CryptoSuiteId.Eth;

        switch ((ConsensusMessageKind)kind)
        {
            case ConsensusMessageKind.Prepare:
                return ReadPrepare(reader, suite);
            case ConsensusMessageKind.Commit:
                {
                    var (height, round, hash) = ReadHeightRoundHash(reader);
                    var seal = ReadSignature(reader, suite);
                    var (sender, signature) = ReadSenderSignature(reader, suite);
                    return reader.Failed ? null : new CommitMessage(new QbftCommit(height, round, hash, seal), sender, signature);
                }

            case ConsensusMessageKind.RoundChange:
                {
                    var signed = ReadSignedRoundChange(reader, suite);
                    var block = ReadFlag(reader) ? ReadBlock(reader) : null;
                    var prepares = ReadPrepares(reader, suite);
                    return reader.Failed || signed is null ? null : new RoundChangeMessage(signed, block, prepares);
                }

            case ConsensusMessageKind.Proposal:
                {
                    var (height, round, hash) = ReadHeightRoundHash(reader);
                    var (sender, signature) = ReadSenderSignature(reader, suite);
                    var block = ReadBlock(reader);
                    var count = ReadCount(reader);
                    var roundChanges = ImmutableArray.CreateBuilder<SignedRoundChange>(count);
                    for (var i = 0; i < count && !reader.Failed; i++)
                    {
                        if (ReadSignedRoundChange(reader, suite) is { } roundChange)
                        {
                            roundChanges.Add(roundChange);
                        }
                    }

                    var prepares = ReadPrepares(reader, suite);
                    return reader.Failed || block is null
                        ? null
                        : new ProposalMessage(new QbftProposal(height, round, hash), sender, signature, block, roundChanges.ToImmutable(), prepares);
                }

            default:
                reader.Fail($"unknown consensus message kind {kind}");
                return null;
        }
    }

    private static void WritePrepare(CanonicalWriter writer, PrepareMessage prepare, CryptoSuiteId suite)
    {
        WriteHeightRoundHash(writer, prepare.Height, prepare.Round, prepare.BlockHash);
        WriteSenderSignature(writer, prepare.Sender, prepare.Signature, suite);
    }

    private static PrepareMessage? ReadPrepare(CanonicalReader reader, CryptoSuiteId suite)
    {
        var (height, round, hash) = ReadHeightRoundHash(reader);
        var (sender, signature) = ReadSenderSignature(reader, suite);
        return reader.Failed ? null : new PrepareMessage(new QbftPrepare(height, round, hash), sender, signature);
    }

    private static void WritePrepares(CanonicalWriter writer, ImmutableArray<PrepareMessage> prepares, CryptoSuiteId suite)
    {
        writer.WriteUInt16(checked((ushort)prepares.Length));
        foreach (var prepare in prepares)
        {
            WritePrepare(writer, prepare, suite);
        }
    }

    private static ImmutableArray<PrepareMessage> ReadPrepares(CanonicalReader reader, CryptoSuiteId suite)
    {
        var count = ReadCount(reader);
        var prepares = ImmutableArray.CreateBuilder<PrepareMessage>(count);
        for (var i = 0; i < count && !reader.Failed; i++)
        {
            if (ReadPrepare(reader, suite) is { } prepare)
            {
                prepares.Add(prepare);
            }
        }

        return prepares.ToImmutable();
    }

    private static void WriteSignedRoundChange(CanonicalWriter writer, SignedRoundChange roundChange, CryptoSuiteId suite)
    {
        var payload = roundChange.Payload;
        writer.WriteUInt64(checked((ulong)payload.Height));
        writer.WriteUInt32(checked((uint)payload.Round));
        writer.WriteByte(payload.Prepared ? (byte)1 : (byte)0);
        writer.WriteUInt32(checked((uint)payload.PreparedRound));
        writer.WriteRaw(payload.PreparedBlockHash.Bytes);
        WriteSenderSignature(writer, roundChange.Sender, roundChange.Signature, suite);
    }

    private static SignedRoundChange? ReadSignedRoundChange(CanonicalReader reader, CryptoSuiteId suite)
    {
        var height = ReadHeight(reader);
        var round = ReadRound(reader);
        var prepared = ReadFlag(reader);
        var preparedRound = ReadRound(reader);
        var preparedHash = ReadHash(reader);
        var (sender, signature) = ReadSenderSignature(reader, suite);
        return reader.Failed ? null : new SignedRoundChange(new QbftRoundChange(height, round, prepared, preparedRound, preparedHash), sender, signature);
    }

    private static void WriteBlock(CanonicalWriter writer, ProposedBlock block)
    {
        Span<byte> header = stackalloc byte[BlockHeader.EncodedSize];
        block.Header.Encode(header);
        writer.WriteRaw(header);
        writer.WriteUInt32((uint)block.Transactions.Length);
        foreach (var transaction in block.Transactions)
        {
            writer.WriteBytes(transaction.Span);
        }
    }

    private static ProposedBlock? ReadBlock(CanonicalReader reader)
    {
        var headerBytes = reader.ReadRaw(BlockHeader.EncodedSize);
        if (reader.Failed)
        {
            return null;
        }

        if (!BlockHeader.TryDecode(headerBytes, out var header, out var headerError))
        {
            reader.Fail($"block header: {headerError}");
            return null;
        }

        var count = reader.ReadUInt32();
        if (count > (uint)reader.Remaining / 4)
        {
            reader.Fail($"{count} transactions announced, {reader.Remaining} bytes left");
            return null;
        }

        var transactions = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>((int)count);
        for (var i = 0; i < count && !reader.Failed; i++)
        {
            transactions.Add(reader.ReadBytes());
        }

        return reader.Failed ? null : new ProposedBlock(header!, transactions.MoveToImmutable());
    }

    private static void WriteHeightRoundHash(CanonicalWriter writer, long height, int round, in Hash256 hash)
    {
        writer.WriteUInt64(checked((ulong)height));
        writer.WriteUInt32(checked((uint)round));
        writer.WriteRaw(hash.Bytes);
    }

    private static (long Height, int Round, Hash256 Hash) ReadHeightRoundHash(CanonicalReader reader)
        => (ReadHeight(reader), ReadRound(reader), ReadHash(reader));

    private static void WriteSenderSignature(CanonicalWriter writer, in Address sender, in Signature signature, CryptoSuiteId suite)
    {
        writer.WriteRaw(sender.Bytes);
        WriteSignature(writer, signature, suite);
    }

    /// <summary>One signature of the message's suite: a message's version byte names one size for all of them.</summary>
    private static void WriteSignature(CanonicalWriter writer, in Signature signature, CryptoSuiteId suite)
    {
        if (signature.Suite != suite)
        {
            throw new ArgumentException($"a consensus message of the {suite} suite holds a {signature.Suite} signature", nameof(signature));
        }

        writer.WriteRaw(signature.Bytes);
    }

    private static (Address Sender, Signature Signature) ReadSenderSignature(CanonicalReader reader, CryptoSuiteId suite)
    {
        var sender = reader.ReadRaw(Address.Size) is { Length: Address.Size } a ? new Address(a) : default;
        return (sender, ReadSignature(reader, suite));
    }

    private static Signature ReadSignature(CanonicalReader reader, CryptoSuiteId suite)
    {
        var size = Signature.SizeOf(suite);
        var bytes = reader.ReadRaw(size);
        return bytes.Length == size && Signature.TryRead(bytes, out var signature) ? signature : default;
    }

    /// <summary>The suite of a journal's signatures (its prepared certificate's; eth when it holds none, which reads either way).</summary>
    private static CryptoSuiteId JournalSuite(ConsensusJournalState state)
        => state.LastPrepared is { Prepares: [var first, ..] } ? first.Signature.Suite
            : state.AcceptedProposal?.Signature.Suite ?? (state.Sent is [var sent, ..] ? sent.Signature.Suite : CryptoSuiteId.Eth);

    private static Hash256 ReadHash(CanonicalReader reader)
        => reader.ReadRaw(Hash256.Size) is { Length: Hash256.Size } h ? new Hash256(h) : default;

    private static long ReadHeight(CanonicalReader reader)
    {
        var value = reader.ReadUInt64();
        if (value > long.MaxValue)
        {
            reader.Fail($"height {value} is out of range");
            return 0;
        }

        return (long)value;
    }

    private static int ReadRound(CanonicalReader reader)
    {
        var value = reader.ReadUInt32();
        if (value > int.MaxValue)
        {
            reader.Fail($"round {value} is out of range");
            return 0;
        }

        return (int)value;
    }

    private static bool ReadFlag(CanonicalReader reader)
    {
        var value = reader.ReadByte();
        if (value > 1)
        {
            reader.Fail($"flag is {value}, not 0 or 1");
        }

        return value == 1;
    }

    private static int ReadCount(CanonicalReader reader)
    {
        var count = reader.ReadUInt16();
        if (count > MaxListEntries)
        {
            reader.Fail($"{count} entries, at most {MaxListEntries}");
            return 0;
        }

        return count;
    }
}
