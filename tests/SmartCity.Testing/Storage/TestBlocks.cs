using System.Buffers.Binary;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;
using SmartCity.Ledger.Storage;

namespace SmartCity.Testing.Storage;

/// <summary>
/// Builds deterministic storage-level blocks: block <c>h</c> is the same bytes in every process, so a crash test's
/// child and parent, a benchmark and a contract test agree on what was appended without talking. Every block has
/// <see cref="TransactionsPerBlock"/> transactions; transaction <c>g</c> (global history index) writes
/// <see cref="StateWritesPerTransaction"/> state keys (its own record key and shared nonce, score and listing keys),
/// completes the history-tree nodes a leaf completes and yields one projection row, by <c>g mod 5</c>.
/// </summary>
public sealed class TestBlocks
{
    public int TransactionsPerBlock { get; init; } = 4;

    public int TransactionSize { get; init; } = 300;

    public int StateWritesPerTransaction { get; init; } = 4;

    public static Hash256 BlockHashAt(long height) => height < 0 ? Hash256.Zero : Tagged("block", height);

    public static Hash256 TxHashAt(long historyIndex) => Tagged("tx", historyIndex);

    public static Hash256 RecordKey(long historyIndex) => Tagged("record", historyIndex);

    public static Hash256 NonceKey(long historyIndex) => Tagged("nonce", historyIndex % 1024);

    public static string SubjectOf(long historyIndex) => $"91110000{historyIndex % 97:D10}";

    public static string LicenceOf(long historyIndex) => $"LIC-{historyIndex % 211:D6}";

    public static string HolderOf(long historyIndex) => $"HOLDER-{historyIndex % 13}";

    public static string MemorandumOf(long historyIndex) => $"MEMO-{historyIndex % 7}";

    /// <summary>The blocks from height 0 to <paramref name="count"/> - 1.</summary>
    public IEnumerable<BlockCommit> Chain(int count)
    {
        for (var height = 0; height < count; height++)
        {
            yield return At(height);
        }
    }

    public BlockCommit At(long height)
    {
        var first = height * TransactionsPerBlock;
        var transactions = new StoredTransaction[TransactionsPerBlock];
        var writes = new List<StateWrite>(TransactionsPerBlock * StateWritesPerTransaction);
        var nodes = new List<HistoryNode>(TransactionsPerBlock * 2);
        var credit = new List<CreditRecordRow>();
        var licences = new List<LicenceRow>();
        var entries = new List<ListEntryRow>();
        var memoranda = new List<MemorandumRow>();
        var applications = new List<MeasureApplicationRow>();
        for (var i = 0; i < TransactionsPerBlock; i++)
        {
            var g = first + i;
            var txHash = TxHashAt(g);
            transactions[i] = new StoredTransaction(txHash, g, TransactionBytes(g));
            AddStateWrites(writes, g);
            AddHistoryNodes(nodes, g);
            var member = new Address(txHash.Bytes[..Address.Size]);
            switch (g % 5)
            {
                case 0:
                    credit.Add(new CreditRecordRow($"CR-{g}", SubjectOf(g), txHash, height, (short)(g % 3), 1, (short)(g % 4), member, height * 1000, height * 1000 + 86_400_000));
                    break;
                case 1:
                    var version = (int)(g / 211) + 1;
                    licences.Add(new LicenceRow(LicenceOf(g), version, HolderOf(g), (short)(g % 4), member, txHash,
                        version == 1 ? Hash256.Zero : TxHashAt(g - 211), height, height * 1000 + 31_536_000_000));
                    break;
                case 2:
                    entries.Add(new ListEntryRow($"LE-{g}", SubjectOf(g), (short)(g % 2), 1, member, txHash, height, height * 1000, height * 1000 + 1_000_000));
                    break;
                case 3:
                    memoranda.Add(new MemorandumRow(MemorandumOf(g), $"Joint measures {g % 7}", member, txHash, height, TransactionBytes(g).AsMemory(0, 40)));
                    break;
                default:
                    applications.Add(new MeasureApplicationRow($"MA-{g}", MemorandumOf(g), $"LE-{g - 2}", SubjectOf(g), (short)(g % 9), 1, member, txHash, height));
                    break;
            }
        }

        var header = TransactionBytes(-height - 1).AsMemory(0, 180);
        var certificate = TransactionBytes(-height - 1_000_000).AsMemory(0, 3 * 65);
        return new BlockCommit(height, BlockHashAt(height), BlockHashAt(height - 1), 1_760_000_000_000 + height * 1000,
            header, certificate, transactions, writes, nodes,
            new ProjectionRows(credit, licences, entries, memoranda, applications));
    }

    /// <summary>The canonical bytes of transaction <paramref name="historyIndex"/>: <see cref="TransactionSize"/> pseudo-random bytes.</summary>
    public byte[] TransactionBytes(long historyIndex)
    {
        var bytes = new byte[TransactionSize];
        var state = (ulong)historyIndex * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
        Span<byte> word = stackalloc byte[8];
        for (var at = 0; at < bytes.Length; at += 8)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            BinaryPrimitives.WriteUInt64LittleEndian(word, state);
            word[..Math.Min(8, bytes.Length - at)].CopyTo(bytes.AsSpan(at));
        }

        return bytes;
    }

    private void AddStateWrites(List<StateWrite> writes, long g)
    {
        Hash256[] keys = [RecordKey(g), NonceKey(g), Tagged("score", g % 4096), Tagged("listing", g % 64)];
        for (var k = 0; k < StateWritesPerTransaction; k++)
        {
            var value = new byte[48 + (int)(g % 32)];
            BinaryPrimitives.WriteInt64LittleEndian(value, g);
            value[^1] = (byte)k;
            writes.Add(new StateWrite(k < keys.Length ? keys[k] : Tagged($"extra{k}", g), value));
        }
    }

    private static void AddHistoryNodes(List<HistoryNode> nodes, long g)
    {
        nodes.Add(new HistoryNode(0, g, Tagged("leaf", g)));
        for (var level = 1; ((g + 1) & ((1L << level) - 1)) == 0; level++)
        {
            var index = ((g + 1) >> level) - 1;
            nodes.Add(new HistoryNode(level, index, Tagged($"node{level}", index)));
        }
    }

    private static Hash256 Tagged(string tag, long value)
    {
        Span<byte> input = stackalloc byte[40];
        input.Clear();
        System.Text.Encoding.ASCII.GetBytes(tag.AsSpan(0, Math.Min(tag.Length, 32)), input);
        BinaryPrimitives.WriteInt64BigEndian(input[32..], value);
        return Keccak256.Hash(input);
    }
}
