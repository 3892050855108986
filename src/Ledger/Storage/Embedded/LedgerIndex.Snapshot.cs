using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>
/// The snapshot form of the index: <c>"SCSN" ‖ version ‖ height ‖ block hash</c>, then six sections (block index,
/// transaction index, state, history nodes, projections, state-node locator), each a count and its entries, then a table of the six
/// sections' byte offsets and last a CRC-32C of everything before it. The offset table lets a restart decode the
/// sections in parallel. Written by <see cref="SnapshotFiles"/>.
/// </summary>
internal sealed partial class LedgerIndex
{
    public const uint SnapshotMagic = 0x4E534353; // "SCSN"
    private const int SnapshotVersion = 3;
    private const int SectionCount = 6;
    private const int TrailerSize = SectionCount * sizeof(long) + sizeof(uint);
    private const int DrainThreshold = 1 << 20;

    public void WriteSnapshot(Stream stream)
    {
        var head = Head ?? throw new InvalidOperationException("an empty store has no snapshot");
        using var encoder = new BinaryEncoder(2 * DrainThreshold);
        var crc = Crc32C.Start;
        long drained = 0;
        var sections = new long[SectionCount];
        void DrainIfFull()
        {
            if (encoder.Length >= DrainThreshold)
            {
                drained += encoder.Length;
                encoder.DrainTo(stream, ref crc);
            }
        }

        void BeginSection(int section) => sections[section] = drained + encoder.Length;

        encoder.WriteUInt32(SnapshotMagic);
        encoder.WriteInt32(SnapshotVersion);
        encoder.WriteInt64(head.Height);
        encoder.WriteHash(head.BlockHash);

        BeginSection(0);
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
            encoder.WriteInt32(block.Layout.StaleOffset);
            DrainIfFull();
        }

        BeginSection(1);
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

        BeginSection(2);
        encoder.WriteInt64(_state.Count);
        foreach (var (key, value) in _state)
        {
            encoder.WriteHash(key);
            encoder.WriteBytes(value);
            DrainIfFull();
        }

        BeginSection(3);
        encoder.WriteInt64(_historyNodes.Count);
        foreach (var (key, hash) in _historyNodes)
        {
            encoder.WriteInt64(key);
            encoder.WriteHash(hash);
            DrainIfFull();
        }

        BeginSection(4);
        var projections = new ProjectionRows([.. CreditRecords.Rows], [.. LicenceVersions.Rows], [.. ListEntries.Rows],
            [.. Memoranda.Rows], [.. MeasureApplications.Rows]);
        ProjectionCodec.Write(encoder, projections);

        BeginSection(5);
        encoder.WriteInt64(StateRetainedFrom);
        encoder.WriteInt64(StateNodes.Count);
        foreach (var (prefix, position) in StateNodes.Entries())
        {
            encoder.WriteInt64((long)prefix);
            encoder.WriteInt64(position);
            DrainIfFull();
        }

        foreach (var offset in sections)
        {
            encoder.WriteInt64(offset);
        }

        encoder.DrainTo(stream, ref crc);
        encoder.WriteUInt32(Crc32C.Finish(crc));
        var ignored = Crc32C.Start;
        encoder.DrainTo(stream, ref ignored);
    }

    /// <summary>
    /// Rebuilds an index from a snapshot's bytes, decoding its sections in parallel while the checksum is verified,
    /// or throws <see cref="StoreCorruptedException"/>.
    /// </summary>
    public static LedgerIndex ReadSnapshot(byte[] snapshot)
    {
        var checksum = Task.Run(() => snapshot.Length >= TrailerSize
            && Crc32C.Compute(snapshot.AsSpan(0, snapshot.Length - 4)) == BinaryPrimitives.ReadUInt32LittleEndian(snapshot.AsSpan(snapshot.Length - 4)));
        LedgerIndex index;
        try
        {
            index = Decode(snapshot);
        }
        catch (Exception ex) when (!checksum.GetAwaiter().GetResult())
        {
            // Damage the checksum explains: report it as such, not as whatever the decoder tripped on.
            throw new StoreCorruptedException("the snapshot fails its checksum", ex);
        }

        return checksum.GetAwaiter().GetResult() ? index : throw new StoreCorruptedException("the snapshot fails its checksum");
    }

    private static LedgerIndex Decode(byte[] snapshot)
    {
        if (snapshot.Length < 48 + TrailerSize)
        {
            throw new StoreCorruptedException("the snapshot is too short");
        }

        var header = new BinaryDecoder(snapshot);
        if (header.ReadUInt32() != SnapshotMagic || header.ReadInt32() is var version && version != SnapshotVersion)
        {
            throw new StoreCorruptedException("the snapshot has an unknown format");
        }

        var height = header.ReadInt64();
        var blockHash = header.ReadHash();
        var body = snapshot.Length - TrailerSize;
        var table = new BinaryDecoder(snapshot.AsSpan(body, SectionCount * sizeof(long)));
        var bounds = new long[SectionCount + 1];
        for (var i = 0; i < SectionCount; i++)
        {
            bounds[i] = table.ReadInt64();
        }

        bounds[SectionCount] = body;
        for (var i = 0; i < SectionCount; i++)
        {
            if (bounds[i] < header.Position || bounds[i] > bounds[i + 1])
            {
                throw new StoreCorruptedException("the snapshot's section table is out of order");
            }
        }

        Memory<byte> Section(int i) => snapshot.AsMemory((int)bounds[i], (int)(bounds[i + 1] - bounds[i]));

        var index = new LedgerIndex();
        Task.WhenAll(
            Task.Run(() => index.ReadBlocks(Section(0).Span)),
            Task.Run(() => index.ReadTransactions(Section(1).Span)),
            Task.Run(() => index.ReadState(Section(2).Span)),
            Task.Run(() => index.ReadHistoryNodes(Section(3).Span)),
            Task.Run(() => index.ReadProjections(Section(4).Span)),
            Task.Run(() => index.ReadStateNodes(Section(5).Span))).GetAwaiter().GetResult();

        if (index._blocks.Count != height + 1 || index._blocks[^1].Hash != blockHash)
        {
            throw new StoreCorruptedException($"the snapshot of height {height} is inconsistent with its own block index");
        }

        var last = index._blocks[^1];
        index.Head = new StoreHead(height, blockHash, last.FirstHistoryIndex + last.TransactionCount);
        return index;
    }

    private void ReadBlocks(ReadOnlySpan<byte> section)
    {
        var d = new BinaryDecoder(section);
        var count = CheckCount(d.ReadInt64());
        _blocks.Capacity = count;
        for (var i = 0; i < count; i++)
        {
            var entry = new BlockEntry(new RecordPosition(d.ReadInt32(), d.ReadInt64()), d.ReadInt32(), d.ReadHash(), d.ReadHash(),
                d.ReadInt64(), d.ReadInt32(), d.ReadInt64(), new BlockLayout(d.ReadInt32(), d.ReadInt32(), d.ReadInt32(), d.ReadInt32()));
            _blocks.Add(entry);
            _heightByHash[entry.Hash] = i;
        }

        EnsureConsumed(ref d, "block index");
    }

    private void ReadTransactions(ReadOnlySpan<byte> section)
    {
        var d = new BinaryDecoder(section);
        var count = CheckCount(d.ReadInt64());
        _transactions.EnsureCapacity(count);
        for (var i = 0; i < count; i++)
        {
            _transactions[d.ReadHash()] = new TxEntry(d.ReadInt64(), d.ReadInt32(), d.ReadInt64(), d.ReadInt32(), d.ReadInt64(), d.ReadInt32());
        }

        EnsureConsumed(ref d, "transaction index");
    }

    private void ReadState(ReadOnlySpan<byte> section)
    {
        var d = new BinaryDecoder(section);
        var count = CheckCount(d.ReadInt64());
        _state.EnsureCapacity(count);
        for (var i = 0; i < count; i++)
        {
            _state[d.ReadHash()] = d.ReadBytes().ToArray();
        }

        EnsureConsumed(ref d, "state");
    }

    private void ReadHistoryNodes(ReadOnlySpan<byte> section)
    {
        var d = new BinaryDecoder(section);
        var count = CheckCount(d.ReadInt64());
        _historyNodes.EnsureCapacity(count);
        for (var i = 0; i < count; i++)
        {
            _historyNodes[d.ReadInt64()] = d.ReadHash();
        }

        EnsureConsumed(ref d, "history nodes");
    }

    private void ReadProjections(ReadOnlySpan<byte> section)
    {
        var d = new BinaryDecoder(section);
        var projections = ProjectionCodec.Read(ref d);
        foreach (var licence in projections.Licences.OrderBy(l => l.Version))
        {
            UpsertLicence(licence);
        }

        ApplyProjections(projections with { Licences = [] });
        EnsureConsumed(ref d, "projections");
    }

    private void ReadStateNodes(ReadOnlySpan<byte> section)
    {
        var d = new BinaryDecoder(section);
        StateRetainedFrom = d.ReadInt64();
        var count = CheckCount(d.ReadInt64());
        var locator = new StateNodeLocator(count);
        for (var i = 0; i < count; i++)
        {
            locator.AddUnchecked((ulong)d.ReadInt64(), d.ReadInt64());
        }

        StateNodes = locator;
        EnsureConsumed(ref d, "state nodes");
    }

    private static void EnsureConsumed(ref BinaryDecoder decoder, string section)
    {
        if (!decoder.IsAtEnd)
        {
            throw new StoreCorruptedException($"the snapshot's {section} section has trailing bytes");
        }
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
