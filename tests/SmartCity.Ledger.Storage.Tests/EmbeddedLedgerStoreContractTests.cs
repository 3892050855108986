using SmartCity.Ledger.Storage.Embedded;

namespace SmartCity.Ledger.Storage.Tests;

/// <summary>The storage contract against the embedded store, in a fresh temporary data directory per test.</summary>
public sealed class EmbeddedLedgerStoreContractTests : LedgerStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "smartcity-store-" + Guid.NewGuid().ToString("N"));

    protected override async Task<ILedgerStore> OpenStoreAsync() =>
        await EmbeddedLedgerStore.OpenAsync(new EmbeddedStoreOptions { DataDirectory = _directory, SnapshotEveryBlocks = 3 }, CancellationToken.None);

    [Fact]
    public async Task A_damaged_record_fails_the_read_for_verification_as_it_fails_the_full_read()
    {
        await AppendChainAsync(3);
        var needle = Blocks.At(1).Transactions[0].Bytes.ToArray();
        FlipByteOf(Path.Combine(_directory, "segments"), needle, needle.Length / 2);

        var full = await Assert.ThrowsAsync<StoreCorruptedException>(() => Store.GetBlockAsync(1, CancellationToken.None).AsTask());
        var lean = await Assert.ThrowsAsync<StoreCorruptedException>(() => Store.GetBlockForVerificationAsync(1, CancellationToken.None).AsTask());

        Assert.Equal(full.Message, lean.Message);
        Assert.Contains("fails its checksum", lean.Message, StringComparison.Ordinal);
        Assert.NotNull(await Store.GetBlockForVerificationAsync(2, CancellationToken.None)); // its neighbours still read
    }

    [Fact]
    public async Task The_read_for_verification_copies_what_it_returns_out_of_its_reused_buffer()
    {
        await AppendChainAsync(3);
        var first = (await Store.GetBlockForVerificationAsync(0, CancellationToken.None))!;
        var kept = first.Transactions.Select(t => t.Bytes.ToArray()).ToArray();

        for (var height = 0; height < 3; height++)
        {
            _ = await Store.GetBlockForVerificationAsync(height, CancellationToken.None); // reuses the pooled buffer
        }

        Assert.Equal(kept, first.Transactions.Select(t => t.Bytes.ToArray()).ToArray());
        Assert.Equal(Blocks.At(0).Header.ToArray(), first.Header.Header.ToArray());
    }

    private static void FlipByteOf(string directory, byte[] needle, int offsetInNeedle)
    {
        foreach (var path in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            var at = File.ReadAllBytes(path).AsSpan().IndexOf(needle);
            if (at >= 0)
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                file.Position = at + offsetInNeedle;
                var value = (byte)file.ReadByte();
                file.Position = at + offsetInNeedle;
                file.WriteByte((byte)(value ^ 0x01));
                return;
            }
        }

        throw new InvalidOperationException("the bytes are in no segment of the store");
    }

    protected override Task DeleteStoreAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
