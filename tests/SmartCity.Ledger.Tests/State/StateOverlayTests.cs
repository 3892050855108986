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
        Assert.All(sorted, w => Assert.Equal(overlay.Get(w.Key), w.Value)); // each value moved with its key
    }

    [Fact]
    public void A_value_written_with_its_object_reads_back_as_that_object_until_its_bytes_are_set_without_one()
    {
        var baseState = new InMemoryState(CryptoSuite.Eth);
        var key = StateKeys.Nonce(new Address(new byte[Address.Size]));
        var hash = key.HashIn(CryptoSuite.Eth);
        baseState.Apply([new StateWrite(hash, StateValue.Encode(new CounterState(1)))]);
        var overlay = new StateOverlay(baseState);

        // Before any write: decoded from the base's bytes.
        Assert.Equal(new CounterState(1), overlay.Read(key, CounterState.Read));

        // Written with its object: the same object comes back, and the bytes are its encoding.
        var written = new CounterState(2);
        overlay.Set(hash, StateValue.Encode(written), written);
        Assert.Same(written, overlay.Read(key, CounterState.Read));
        Assert.Equal(StateValue.Encode(written), overlay.Get(hash));

        // Bytes set without an object (a delete, or a write from elsewhere): read from the bytes again.
        overlay.Set(hash, StateValue.Encode(new CounterState(3)));
        Assert.Equal(new CounterState(3), overlay.Read(key, CounterState.Read));
        overlay.Set(hash, null);
        Assert.Null(overlay.Read(key, CounterState.Read));

        // Another overlay on top does not see the object of the one below: it decodes what that one holds.
        overlay.Set(hash, StateValue.Encode(written), written);
        var above = new StateOverlay(overlay);
        var read = above.Read(key, CounterState.Read);
        Assert.Equal(written, read);
        Assert.NotSame(written, read);
    }

    private static Hash256 Key(int i) => Keccak256.Hash(BitConverter.GetBytes(i));
}
