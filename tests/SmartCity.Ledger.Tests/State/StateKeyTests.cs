using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Gm;
using SmartCity.Ledger.State;

namespace SmartCity.Ledger.Tests.State;

public sealed class StateKeyTests
{
    [Fact]
    public void A_key_hashes_to_its_suites_hash_of_its_text_however_often_and_in_whatever_order_it_is_asked()
    {
        // The last keys hashed are remembered per thread: each answer must still be that suite's hash of that text,
        // for more keys than are remembered, asked again in another order and under the other suite.
        var keys = Enumerable.Range(0, 40).Select(i => StateKeys.Record(Keccak256.Hash(BitConverter.GetBytes(i)))).ToArray();
        for (var pass = 0; pass < 3; pass++)
        {
            foreach (var key in pass == 1 ? Enumerable.Reverse(keys) : keys)
            {
                var ascii = Encoding.ASCII.GetBytes(key.Text);
                Assert.Equal(Keccak256.Hash(ascii), key.HashIn(CryptoSuite.Eth));
                Assert.Equal(Sm3.Hash(ascii), key.HashIn(CryptoSuite.Gm));
                Assert.Equal(Keccak256.Hash(ascii), new StateKey(new string(key.Text.AsSpan())).HashIn(CryptoSuite.Eth));
            }
        }
    }

    [Fact]
    public void Keys_that_share_a_slot_of_the_remembered_hashes_each_get_their_own_hash()
    {
        // Same length and last characters (so the same slot): the text decides, not the slot.
        var twins = new[] { new StateKey("licence/a-12345678"), new StateKey("licence/b-12345678"), new StateKey("x"), new StateKey("") };
        Assert.Equal(KeyHashCacheSlot(twins[0].Text), KeyHashCacheSlot(twins[1].Text));

        // Far more keys than the table's 4,096 slots, asked twice in alternation with the twins.
        var many = Enumerable.Range(0, 10_000).Select(i => StateKeys.Nonce(new Address(Keccak256.Hash(BitConverter.GetBytes(i)).Bytes[..20]))).ToArray();
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < many.Length; i++)
            {
                var key = i % 100 < 4 ? twins[i % 100] : many[i];
                Assert.Equal(Keccak256.Hash(Encoding.ASCII.GetBytes(key.Text)), key.HashIn(CryptoSuite.Eth));
            }
        }

        foreach (var twin in twins)
        {
            Assert.Equal(Sm3.Hash(Encoding.ASCII.GetBytes(twin.Text)), twin.HashIn(CryptoSuite.Gm));
            Assert.Equal(Keccak256.Hash(Encoding.ASCII.GetBytes(twin.Text)), twin.HashIn(CryptoSuite.Eth));
        }
    }

    private static int KeyHashCacheSlot(string text) => KeyHashCache.SlotOf(text);

    [Fact]
    public void Keys_spell_addresses_and_ids_as_lower_case_0x_hex_as_the_state_layout_says()
    {
        var address = new Address(Convert.FromHexString("00A1b2C3d4E5f60718293a4B5c6D7e8F90a1B2c3"));
        var id = Hash256.Parse("0x00FF10e2d3C4b5A6978877665544332211000102030405060708090a0b0c0d0e");

        Assert.Equal("nonce/0x00a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3", StateKeys.Nonce(address).Text);
        Assert.Equal("member/0x00a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3", StateKeys.Member(address).Text);
        Assert.Equal("validator/0x00a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3", StateKeys.Validator(address).Text);
        Assert.Equal("record/0x00ff10e2d3c4b5a6978877665544332211000102030405060708090a0b0c0d0e", StateKeys.Record(id).Text);
        Assert.Equal("record/0x00ff10e2d3c4b5a6978877665544332211000102030405060708090a0b0c0d0e/v/7", StateKeys.RecordVersion(id, 7).Text);
        Assert.Equal("0x00ff10e2d3c4b5a6978877665544332211000102030405060708090a0b0c0d0e", id.ToString());
        Assert.Equal(id.ToString(), $"{id}");
        Assert.False(id.TryFormat(new char[Hash256.TextLength - 1], out var written, default, null));
        Assert.Equal(0, written);
    }

    [Fact]
    public async Task Key_texts_remembered_per_thread_are_always_the_text_of_the_id_asked_for()
    {
        // The last few texts of each kind are reused on a thread: asked for more ids than are remembered, in changing
        // orders, alternately with other kinds of key, every text must still spell the id (and version) it was asked for.
        var ids = Enumerable.Range(0, 12).Select(i => Keccak256.Hash(BitConverter.GetBytes(i))).ToArray();
        var addresses = ids.Select(id => new Address(id.Bytes[..Address.Size].ToArray())).ToArray();
        var random = new Random(7);
        for (var step = 0; step < 2_000; step++)
        {
            var i = random.Next(ids.Length);
            var version = (uint)random.Next(3);
            var hex = Convert.ToHexStringLower(addresses[i].Bytes);
            Assert.Equal($"record/{ids[i]}", StateKeys.Record(ids[i]).Text);
            Assert.Equal($"record/{ids[i]}/v/{version}", StateKeys.RecordVersion(ids[i], version).Text);
            Assert.Equal($"nonce/0x{hex}", StateKeys.Nonce(addresses[i]).Text);
            Assert.Equal($"member/0x{hex}", StateKeys.Member(addresses[i]).Text);
        }

        // Another thread has texts of its own, spelled the same.
        var other = await Task.Run(() => StateKeys.Record(ids[3]).Text);
        Assert.Equal(StateKeys.Record(ids[3]).Text, other);
    }
}
