using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The payload of a block record: everything in a <see cref="BlockCommit"/>, so the indexes, the state and the
/// projections can all be rebuilt from the segments alone. See docs/storage.md for the field-by-field layout.
/// </summary>
internal static class BlockRecordCodec
{
    // Version 2 appends the state-tree sections (nodes, stale nodes, retention floor); version 1 records still decode.
    private const byte FormatVersion = 2;
    private const byte FirstFormatVersion = 1;

    /// <summary>
    /// Appends the payload of <paramref name="block"/>; <paramref name="txByteOffsets"/> receives where each
    /// transaction's bytes start, <paramref name="valueOffsets"/> where each state write's value starts (-1 for a
    /// deletion), and <paramref name="layout"/> where the header is, relative to the payload's start.
    /// </summary>
    public static void Encode(BinaryEncoder encoder, BlockCommit block, Span<int> txByteOffsets, Span<int> valueOffsets, Span<int> nodeOffsets, out BlockLayout layout)
    {
        var origin = encoder.Length;
        encoder.WriteByte(FormatVersion);
        encoder.WriteInt64(block.Height);
        encoder.WriteHash(block.BlockHash);
        encoder.WriteHash(block.ParentHash);
        encoder.WriteInt64(block.Timestamp);
        var headerOffset = encoder.WriteBytes(block.Header.Span) - origin;
        encoder.WriteBytes(block.Certificate.Span);
        var headerLength = block.Header.Length;
        var certificateLength = block.Certificate.Length;

        encoder.WriteInt32(block.Transactions.Count);
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            var tx = block.Transactions[i];
            encoder.WriteHash(tx.TxHash);
            encoder.WriteInt64(tx.HistoryIndex);
            txByteOffsets[i] = encoder.WriteBytes(tx.Bytes.Span) - origin;
        }

        encoder.WriteInt32(block.StateWrites.Count);
        for (var i = 0; i < block.StateWrites.Count; i++)
        {
            var write = block.StateWrites[i];
            encoder.WriteHash(write.Key);
            if (write.Value is null)
            {
                encoder.WriteNullableBytes(null);
                valueOffsets[i] = -1;
            }
            else
            {
                valueOffsets[i] = encoder.WriteBytes(write.Value) - origin;
            }
        }

        encoder.WriteInt32(block.HistoryNodes.Count);
        foreach (var node in block.HistoryNodes)
        {
            encoder.WriteInt32(node.Level);
            encoder.WriteInt64(node.Index);
            encoder.WriteHash(node.Hash);
        }

        ProjectionCodec.Write(encoder, block.Projections);

        encoder.WriteInt32(block.StateNodes.Count);
        for (var i = 0; i < block.StateNodes.Count; i++)
        {
            var node = block.StateNodes[i];
            encoder.WriteHash(node.Hash);
            nodeOffsets[i] = encoder.Length - origin;
            encoder.WriteBytes(node.Encoded.Span);
        }

        var staleOffset = encoder.Length - origin;
        encoder.WriteInt32(block.StaleStateNodes.Count);
        foreach (var stale in block.StaleStateNodes)
        {
            encoder.WriteHash(stale);
        }

        encoder.WriteInt64(block.StateRetainedFrom);
        layout = new BlockLayout(headerOffset, headerLength, certificateLength, staleOffset);
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
        var valueOffsets = new int[writes.Length];
        for (var i = 0; i < writes.Length; i++)
        {
            var key = decoder.ReadHash();
            writes[i] = new StateWrite(key, decoder.ReadNullableBytes(out valueOffsets[i]));
        }

        var nodes = new HistoryNode[CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = new HistoryNode(decoder.ReadInt32(), decoder.ReadInt64(), decoder.ReadHash());
        }

        var projections = ProjectionCodec.Read(ref decoder);
        var stateNodes = Array.Empty<StoredStateNode>();
        var nodeOffsets = Array.Empty<int>();
        var stale = Array.Empty<Crypto.Hash256>();
        long retainedFrom = 0;
        var staleOffset = -1;
        if (payload.Span[0] >= 2)
        {
            stateNodes = new StoredStateNode[CheckCount(decoder.ReadInt32())];
            nodeOffsets = new int[stateNodes.Length];
            for (var i = 0; i < stateNodes.Length; i++)
            {
                var nodeHash = decoder.ReadHash();
                nodeOffsets[i] = decoder.Position;
                var encoded = decoder.ReadBytes(out var offset);
                stateNodes[i] = new StoredStateNode(nodeHash, payload.Slice(offset, encoded.Length));
            }

            staleOffset = decoder.Position;
            stale = new Crypto.Hash256[CheckCount(decoder.ReadInt32())];
            for (var i = 0; i < stale.Length; i++)
            {
                stale[i] = decoder.ReadHash();
            }

            retainedFrom = decoder.ReadInt64();
        }

        if (!decoder.IsAtEnd)
        {
            throw new StoreCorruptedException($"block record {height} has {payload.Length - decoder.Position} trailing bytes");
        }

        var block = new BlockCommit(height, hash, parent, timestamp, header, certificate, transactions, writes, nodes, projections)
        {
            StateNodes = stateNodes,
            StaleStateNodes = stale,
            StateRetainedFrom = retainedFrom,
        };
        return new DecodedBlock(block, new BlockLayout(headerOffset, header.Length, certificate.Length, staleOffset), txByteOffsets, valueOffsets, nodeOffsets);
    }

    /// <summary>
    /// The header, certificate and transactions of a record, copied out of <paramref name="payload"/> into one compact
    /// array (the payload may be a pooled buffer). The rest of the record — state writes, history nodes, projections,
    /// state nodes, stale nodes — is walked with the same structure checks as <see cref="Decode"/>, so a record that
    /// does not parse fails here with the same <see cref="StoreCorruptedException"/>, but nothing of it is kept.
    /// </summary>
    public static (ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Certificate, StoredTransaction[] Transactions) DecodeForVerification(ReadOnlySpan<byte> payload)
    {
        var decoder = new BinaryDecoder(payload);
        var (height, _, _, _) = ReadPrologue(ref decoder);
        var header = decoder.ReadBytes();
        var certificate = decoder.ReadBytes();

        var txCount = CheckCount(decoder.ReadInt32());
        var hashes = new Crypto.Hash256[txCount];
        var historyIndexes = new long[txCount];
        var offsets = new int[txCount];
        var lengths = new int[txCount];
        var kept = (long)header.Length + certificate.Length;
        for (var i = 0; i < txCount; i++)
        {
            hashes[i] = decoder.ReadHash();
            historyIndexes[i] = decoder.ReadInt64();
            lengths[i] = decoder.ReadBytes(out offsets[i]).Length;
            kept += lengths[i];
        }

        SkipRest(ref decoder, payload[0], height, payload.Length);

        // One array for everything kept: the header and certificate, then each transaction's bytes.
        var copy = new byte[kept];
        var at = 0;
        header.CopyTo(copy);
        at += header.Length;
        certificate.CopyTo(copy.AsSpan(at));
        at += certificate.Length;
        var transactions = new StoredTransaction[txCount];
        for (var i = 0; i < txCount; i++)
        {
            payload.Slice(offsets[i], lengths[i]).CopyTo(copy.AsSpan(at));
            transactions[i] = new StoredTransaction(hashes[i], historyIndexes[i], copy.AsMemory(at, lengths[i]));
            at += lengths[i];
        }

        return (copy.AsMemory(0, header.Length), copy.AsMemory(header.Length, certificate.Length), transactions);
    }

    /// <summary>Walks what follows the transactions as <see cref="Decode"/> reads it, keeping nothing but the checks.</summary>
    private static void SkipRest(ref BinaryDecoder decoder, byte version, long height, int payloadLength)
    {
        var writes = CheckCount(decoder.ReadInt32());
        for (var i = 0; i < writes; i++)
        {
            decoder.ReadHash();
            decoder.SkipNullableBytes();
        }

        var nodes = CheckCount(decoder.ReadInt32());
        for (var i = 0; i < nodes; i++)
        {
            decoder.ReadInt32();
            decoder.ReadInt64();
            decoder.ReadHash();
        }

        ProjectionCodec.Read(ref decoder);
        if (version >= 2)
        {
            var stateNodes = CheckCount(decoder.ReadInt32());
            for (var i = 0; i < stateNodes; i++)
            {
                decoder.ReadHash();
                decoder.ReadBytes();
            }

            var stale = CheckCount(decoder.ReadInt32());
            for (var i = 0; i < stale; i++)
            {
                decoder.ReadHash();
            }

            decoder.ReadInt64();
        }

        if (!decoder.IsAtEnd)
        {
            throw new StoreCorruptedException($"block record {height} has {payloadLength - decoder.Position} trailing bytes");
        }
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
        if (version is < FirstFormatVersion or > FormatVersion)
        {
            throw new StoreCorruptedException($"block record format {version} is not supported (expected {FirstFormatVersion} to {FormatVersion})");
        }

        return (decoder.ReadInt64(), decoder.ReadHash(), decoder.ReadHash(), decoder.ReadInt64());
    }

    internal static int CheckCount(int count) =>
        count >= 0 ? count : throw new StoreCorruptedException($"negative element count {count} in a stored record");
}

/// <summary>
/// Where the header and certificate bytes sit inside a block payload (the certificate follows the header's bytes after
/// its length prefix), and where the stale-node list starts (-1 in a version 1 record, which has none).
/// </summary>
internal readonly record struct BlockLayout(int HeaderOffset, int HeaderLength, int CertificateLength, int StaleOffset)
{
    public int CertificateOffset => HeaderOffset + HeaderLength + sizeof(int);
}

/// <summary>A decoded record; <see cref="NodeOffsets"/> say where each state node's length prefix starts in the payload.</summary>
internal sealed record DecodedBlock(BlockCommit Block, BlockLayout Layout, int[] TxByteOffsets, int[] ValueOffsets, int[] NodeOffsets);
