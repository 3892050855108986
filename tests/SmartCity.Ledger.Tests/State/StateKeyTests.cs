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
}
