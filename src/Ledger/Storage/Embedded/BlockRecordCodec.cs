using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The payload of a block record: everything in a <see cref="BlockCommit"/>, so the indexes, the state and the
/// projections can all be rebuilt from the segments alone. See docs/storage.md for the field-by-field layout.
/// </summary>
internal static class BlockRecordCodec
{
    private const byte FormatVersion = 1;

    /// <summary>
    /// Appends the payload of <paramref name="block"/>; <paramref name="txByteOffsets"/> receives where each
    /// transaction's bytes start, and <paramref name="layout"/> where the header is, relative to the payload's start.
    /// </summary>
    public static void Encode(BinaryEncoder encoder, BlockCommit block, Span<int> txByteOffsets, out BlockLayout layout)
    {
        var origin = encoder.Length;
        encoder.WriteByte(FormatVersion);
        encoder.WriteInt64(block.Height);
        encoder.WriteHash(block.BlockHash);
        encoder.WriteHash(block.ParentHash);
        encoder.WriteInt64(block.Timestamp);
        var headerOffset = encoder.WriteBytes(block.Header.Span) - origin;
        encoder.WriteBytes(block.Certificate.Span);
        layout = new BlockLayout(headerOffset, block.Header.Length, block.Certificate.Length);

        encoder.WriteInt32(block.Transactions.Count);
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            var tx = block.Transactions[i];
            encoder.WriteHash(tx.TxHash);
            encoder.WriteInt64(tx.HistoryIndex);
            txByteOffsets[i] = encoder.WriteBytes(tx.Bytes.Span) - origin;
        }

        encoder.WriteInt32(block.StateWrites.Count);
        foreach (var write in block.StateWrites)
        {
            encoder.WriteHash(write.Key);
            encoder.WriteNullableBytes(write.Value);
        }

        encoder.WriteInt32(block.HistoryNodes.Count);
        foreach (var node in block.HistoryNodes)
        {
            encoder.WriteInt32(node.Level);
            encoder.WriteInt64(node.Index);
            encoder.WriteHash(node.Hash);
        }

        ProjectionCodec.Write(encoder, block.Projections);
    }

    /// <summary>Decodes a whole block; byte fields are slices of <paramref name="payload"/>, state values are copies.</summary>
    public static DecodedBlock Decode(ReadOnlyMemory<byte> payload)
    {
        var decoder = new BinaryDecoder(payload.Span);
        var (height, hash, parent, timestamp) = ReadPrologue(ref decoder);
        decoder.ReadBytes(out var headerOffset);
        var header = payload.Slice(headerOffset, decoder.Position - headerOffset);
        decoder.ReadBytes(out var certificateOffset);
        var certificate = payload.Slice(certificateOffset, decoder.Position - certificateOffset);

        var txCount = CheckCount(decoder.ReadInt32());
        var transactions = new StoredTransaction[txCount];
        var txByteOffsets = new int[txCount];
        for (var i = 0; i < txCount; i++)
        {
            var txHash = decoder.ReadHash();
            var historyIndex = decoder.ReadInt64();
            var bytes = decoder.ReadBytes(out var offset);
            txByteOffsets[i] = offset;
            transactions[i] = new StoredTransaction(txHash, historyIndex, payload.Slice(offset, bytes.Length));
        }

        var writes = new StateWrite[CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < writes.Length; i++)
        {
            writes[i] = new StateWrite(decoder.ReadHash(), decoder.ReadNullableBytes());
        }

        var nodes = new HistoryNode[CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = new HistoryNode(decoder.ReadInt32(), decoder.ReadInt64(), decoder.ReadHash());
        }

        var projections = ProjectionCodec.Read(ref decoder);
        if (!decoder.IsAtEnd)
        {
            throw new StoreCorruptedException($"block record {height} has {payload.Length - decoder.Position} trailing bytes");
        }

        var block = new BlockCommit(height, hash, parent, timestamp, header, certificate, transactions, writes, nodes, projections);
        return new DecodedBlock(block, new BlockLayout(headerOffset, header.Length, certificate.Length), txByteOffsets);
    }

    /// <summary>Reads height, hash, parent hash and timestamp only: enough to check links.</summary>
    public static (long Height, Crypto.Hash256 Hash, Crypto.Hash256 Parent, long Timestamp) DecodePrologue(ReadOnlySpan<byte> payload)
    {
        var decoder = new BinaryDecoder(payload);
        return ReadPrologue(ref decoder);
    }

    private static (long, Crypto.Hash256, Crypto.Hash256, long) ReadPrologue(ref BinaryDecoder decoder)
    {
        var version = decoder.ReadByte();
        if (version != FormatVersion)
        {
            throw new StoreCorruptedException($"block record format {version} is not supported (expected {FormatVersion})");
        }

        return (decoder.ReadInt64(), decoder.ReadHash(), decoder.ReadHash(), decoder.ReadInt64());
    }

    internal static int CheckCount(int count) =>
        count >= 0 ? count : throw new StoreCorruptedException($"negative element count {count} in a stored record");
}

/// <summary>Where the header and certificate bytes sit inside a block payload (the certificate follows the header's bytes after its length prefix).</summary>
internal readonly record struct BlockLayout(int HeaderOffset, int HeaderLength, int CertificateLength)
{
    public int CertificateOffset => HeaderOffset + HeaderLength + sizeof(int);
}

internal sealed record DecodedBlock(BlockCommit Block, BlockLayout Layout, int[] TxByteOffsets);
