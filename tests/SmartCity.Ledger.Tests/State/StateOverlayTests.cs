using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Tests.State;

public sealed class StateOverlayTests
{
    [Theory]
    [InlineData(0, 3)]
    [InlineData(8, 16)]
    [InlineData(8, 17)]
    [InlineData(2, 500)]
    public void Reads_its_own_writes_over_the_base_and_lists_each_key_once_in_first_write_order(int capacity, int keys)
    {
        var baseState = new InMemoryState(CryptoSuite.Eth);
        var inBase = Key(-1);
        baseState.Apply([new StateWrite(inBase, [42])]);
        var overlay = new StateOverlay(baseState, capacity);

        for (var i = 0; i < keys; i++)
        {
            overlay.Set(Key(i), [(byte)i]);
        }

        for (var i = 0; i < keys; i += 2)
        {
            overlay.Set(Key(i), i % 4 == 0 ? null : [(byte)(i + 1)]); // overwritten: a delete or a new value
        }

        Assert.Equal([42], overlay.Get(inBase));
        Assert.Null(overlay.Get(Key(keys + 1)));
        var writes = overlay.Writes;
        Assert.Equal(keys, writes.Count);
        for (var i = 0; i < keys; i++)
        {
            byte[]? expected = i % 4 == 0 ? null : i % 2 == 0 ? [(byte)(i + 1)] : [(byte)i];
            Assert.Equal(Key(i), writes[i].Key);
            Assert.Equal(expected, writes[i].Value);
            Assert.Equal(expected, overlay.Get(Key(i)));
        }

        var sorted = overlay.SortedWrites();
        Assert.Equal([.. writes.Select(w => w.Key).Order()], sorted.Select(w => w.Key));
    }

    private static Hash256 Key(int i) => Keccak256.Hash(BitConverter.GetBytes(i));
}
