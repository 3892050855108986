using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The snapshot form of the index: <c>"SCSN" ‖ version ‖ height ‖ block hash</c>, then the block index, the
/// transaction index, the state, the history nodes and the projections, each as a count and its entries, and last
/// a CRC-32C of everything before it. Written by <see cref="SnapshotFiles"/>.
/// </summary>
internal sealed partial class LedgerIndex
{
    public const uint SnapshotMagic = 0x4E534353; // "SCSN"
    private const int SnapshotVersion = 1;
    private const int DrainThreshold = 1 << 20;

    public void WriteSnapshot(Stream stream)
    {
        var head = Head ?? throw new InvalidOperationException("an empty store has no snapshot");
        using var encoder = new BinaryEncoder(2 * DrainThreshold);
        var crc = Crc32C.Start;
        void DrainIfFull()
        {
            if (encoder.Length >= DrainThreshold)
            {
                encoder.DrainTo(stream, ref crc);
            }
        }

        encoder.WriteUInt32(SnapshotMagic);
        encoder.WriteInt32(SnapshotVersion);
        encoder.WriteInt64(head.Height);
        encoder.WriteHash(head.BlockHash);

        encoder.WriteInt64(_blocks.Count);
        foreach (var block in _blocks)
        {
            encoder.WriteInt32(block.Record.Segment);
            encoder.WriteInt64(block.Record.Offset);
            encoder.WriteInt32(block.RecordLength);
            encoder.WriteHash(block.Hash);
            encoder.WriteHash(block.Parent);
            encoder.WriteInt64(block.Timestamp);
            encoder.WriteInt32(block.TransactionCount);
            encoder.WriteInt64(block.FirstHistoryIndex);
            encoder.WriteInt32(block.Layout.HeaderOffset);
            encoder.WriteInt32(block.Layout.HeaderLength);
            encoder.WriteInt32(block.Layout.CertificateLength);
            DrainIfFull();
        }

        encoder.WriteInt64(_transactions.Count);
        foreach (var (hash, tx) in _transactions)
        {
            encoder.WriteHash(hash);
            encoder.WriteInt64(tx.Height);
            encoder.WriteInt32(tx.IndexInBlock);
            encoder.WriteInt64(tx.HistoryIndex);
            encoder.WriteInt32(tx.Segment);
            encoder.WriteInt64(tx.Offset);
            encoder.WriteInt32(tx.Length);
            DrainIfFull();
        }

        encoder.WriteInt64(_state.Count);
        foreach (var (key, value) in _state)
        {
            encoder.WriteHash(key);
            encoder.WriteBytes(value);
            DrainIfFull();
        }

        encoder.WriteInt64(_historyNodes.Count);
        foreach (var (key, hash) in _historyNodes)
        {
            encoder.WriteInt64(key);
            encoder.WriteHash(hash);
            DrainIfFull();
        }

        var projections = new ProjectionRows([.. CreditRecords.Rows], [.. LicenceVersions.Rows], [.. ListEntries.Rows],
            [.. Memoranda.Rows], [.. MeasureApplications.Rows]);
        ProjectionCodec.Write(encoder, projections);
        encoder.DrainTo(stream, ref crc);

        encoder.WriteUInt32(Crc32C.Finish(crc));
        var ignored = Crc32C.Start;
        encoder.DrainTo(stream, ref ignored);
    }

    /// <summary>Rebuilds an index from a snapshot's bytes, or throws <see cref="StoreCorruptedException"/>.</summary>
    public static LedgerIndex ReadSnapshot(ReadOnlySpan<byte> snapshot)
    {
        if (snapshot.Length < 4 || Crc32C.Compute(snapshot[..^4]) != BitConverter.ToUInt32(snapshot[^4..]))
        {
            throw new StoreCorruptedException("the snapshot fails its checksum");
        }

        var d = new BinaryDecoder(snapshot[..^4]);
        if (d.ReadUInt32() != SnapshotMagic || d.ReadInt32() is var version && version != SnapshotVersion)
        {
            throw new StoreCorruptedException("the snapshot has an unknown format");
        }

        var height = d.ReadInt64();
        var blockHash = d.ReadHash();
        var index = new LedgerIndex();

        var blockCount = CheckCount(d.ReadInt64());
        index._blocks.Capacity = blockCount;
        for (var i = 0; i < blockCount; i++)
        {
            var entry = new BlockEntry(new RecordPosition(d.ReadInt32(), d.ReadInt64()), d.ReadInt32(), d.ReadHash(), d.ReadHash(),
                d.ReadInt64(), d.ReadInt32(), d.ReadInt64(), new BlockLayout(d.ReadInt32(), d.ReadInt32(), d.ReadInt32()));
            index._blocks.Add(entry);
            index._heightByHash[entry.Hash] = i;
        }

        var txCount = CheckCount(d.ReadInt64());
        index._transactions.EnsureCapacity(txCount);
        for (var i = 0; i < txCount; i++)
        {
            index._transactions[d.ReadHash()] = new TxEntry(d.ReadInt64(), d.ReadInt32(), d.ReadInt64(), d.ReadInt32(), d.ReadInt64(), d.ReadInt32());
        }

        var stateCount = CheckCount(d.ReadInt64());
        index._state.EnsureCapacity(stateCount);
        for (var i = 0; i < stateCount; i++)
        {
            index._state[d.ReadHash()] = d.ReadBytes().ToArray();
        }

        var nodeCount = CheckCount(d.ReadInt64());
        index._historyNodes.EnsureCapacity(nodeCount);
        for (var i = 0; i < nodeCount; i++)
        {
            index._historyNodes[d.ReadInt64()] = d.ReadHash();
        }

        var projections = ProjectionCodec.Read(ref d);
        foreach (var licence in projections.Licences.OrderBy(l => l.Version))
        {
            index.UpsertLicence(licence);
        }

        index.ApplyProjections(projections with { Licences = [] });
        if (!d.IsAtEnd || blockCount != height + 1 || index._blocks[^1].Hash != blockHash)
        {
            throw new StoreCorruptedException($"the snapshot of height {height} is inconsistent with its own block index");
        }

        var last = index._blocks[^1];
        index.Head = new StoreHead(height, blockHash, last.FirstHistoryIndex + last.TransactionCount);
        return index;
    }

    private static int CheckCount(long count) =>
        count is >= 0 and <= int.MaxValue ? (int)count : throw new StoreCorruptedException($"snapshot count {count} is out of range");

    /// <summary>Checks that every block names its predecessor's hash as parent.</summary>
    public void VerifyLinks()
    {
        var parent = Hash256.Zero;
        for (var height = 0; height < _blocks.Count; height++)
        {
            if (_blocks[height].Parent != parent)
            {
                throw new StoreCorruptedException($"block {height} names parent {_blocks[height].Parent}, but block {height - 1} is {parent}");
            }

            parent = _blocks[height].Hash;
        }
    }
}
