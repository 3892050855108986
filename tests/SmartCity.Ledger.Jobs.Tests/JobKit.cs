using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Genesis;
using SmartCity.Ledger.Node;
using SmartCity.Ledger.Node.Consensus;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.Storage;
using SmartCity.Ledger.Storage.Embedded;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Jobs.Tests;

/// <summary>Chains for the job tests: the sample genesis with only the BJ validator, one credit record per block.</summary>
internal static class JobKit
{
    public static TestKey Validator { get; } = new(101, "validator-bj", "", "BJ");

    public static GenesisDocument SoloGenesis { get; } = GenesisBuilder.Sample.Value with { Validators = [GenesisBuilder.Sample.Value.Validators[0]] };

    /// <summary>The sample genesis of a suite with only the BJ validator (the gm one names the keys' SM2 addresses).</summary>
    public static GenesisDocument SoloGenesisIn(CryptoSuiteId suite)
    {
        var sample = GenesisBuilder.SampleIn(suite);
        return sample with { Validators = [sample.Validators[0]] };
    }

    public static string TempDirectory() => Directory.CreateTempSubdirectory("smartcity-jobs-test-").FullName;

    public static CancellationToken Deadline(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static Task<EmbeddedLedgerStore> EmbeddedStoreAsync(string directory)
        => EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = directory }, CancellationToken.None);

    public static Task<LedgerNode> SoloNodeAsync(ILedgerStore store, TimeProvider? time = null, GenesisDocument? genesis = null)
    {
        genesis ??= SoloGenesis;
        return LedgerNode.OpenAsync(
            new LedgerNodeSetup
            {
                Genesis = genesis,
                Store = store,
                Curve = CryptoSuite.For(genesis.Crypto.Suite).Signatures,
                Consensus = new SoloSealingEngine(new SignerBlockSealer(Validator.SignerIn(genesis.Crypto.Suite), TrustAnchor.FromGenesis(genesis).DomainSeparator)),
                Time = time ?? TimeProvider.System,
            },
            CancellationToken.None);
    }

    /// <summary>Commits <paramref name="count"/> credit records, each waited for (one block each); returns their bytes by height.</summary>
    public static async Task<Dictionary<long, byte[]>> CommitRecordsAsync(LedgerNode node, int count, ulong firstNonce = 0, Func<CreditRecordBuilder, CreditRecordBuilder>? shape = null, GenesisDocument? genesis = null)
    {
        var committed = new Dictionary<long, byte[]>();
        for (var i = 0; i < count; i++)
        {
            var builder = Build.A.CreditRecord.By(TestKeys.BeijingRegulator);
            var shaped = shape is null ? builder : shape(builder);
            var bytes = TransactionCodec.Encode(genesis is null ? shaped.Signed(firstNonce + (ulong)i) : shaped.SignedIn(genesis, firstNonce + (ulong)i));
            var result = await node.SubmitAsync(bytes, waitForCommit: true, Deadline());
            Assert.Equal(TransactionState.Committed, result.Outcome?.State);
            committed[result.Outcome!.Height] = bytes;
        }

        return committed;
    }

    /// <summary>Flips one bit of <paramref name="needle"/>'s first occurrence in the files of <paramref name="directory"/>.</summary>
    public static void FlipByteOf(string directory, byte[] needle, int offsetInNeedle)
    {
        foreach (var path in Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var content = File.ReadAllBytes(path);
            var at = content.AsSpan().IndexOf(needle);
            if (at >= 0)
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                file.Position = at + offsetInNeedle;
                var value = (byte)file.ReadByte();
                file.Position = at + offsetInNeedle;
                file.WriteByte((byte)(value ^ 0x01));
                file.Flush(flushToDisk: true);
                return;
            }
        }

        throw new InvalidOperationException("the bytes are in no file of the store");
    }
}
