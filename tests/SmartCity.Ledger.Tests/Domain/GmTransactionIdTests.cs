using System.Text;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Ledger.Tests.Crypto.Gm;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

/// <summary>
/// A gm transaction id is what docs/domain.md ("Transaction id") says, computed by OpenSSL's command line from the
/// documented bytes: <c>openssl dgst -sm3</c> of ASCII <c>SmartCity.Ledger/tx-id/v1</c>, a NUL, the signed digest and the
/// signer's 20 address bytes. (The eth ids are checked against ethers in <see cref="EthersInteropTests"/>.)
/// </summary>
public sealed class GmTransactionIdTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("smartcity-gm-id-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_gm_transaction_id_is_the_sm3_openssl_computes_over_the_documented_bytes_and_differs_per_signer()
    {
        var genesis = GenesisBuilder.SampleIn(CryptoSuiteId.Gm);
        var domain = genesis.Domain(CryptoSuite.Gm);
        var vote = new GovernanceVote(Build.Id("proposal"), Approve: true);
        var ids = new List<Hash256>();
        foreach (var key in new[] { TestKeys.TianjinRegulator, TestKeys.HebeiRegulator })
        {
            var tx = TestLedger.Sign(genesis, key, vote, nonce: 3);
            var input = Path.Combine(_directory, $"{key.Seed}.bin");
            File.WriteAllBytes(input, [.. Encoding.ASCII.GetBytes("SmartCity.Ledger/tx-id/v1"), 0, .. tx.SigningDigest(domain).Bytes, .. key.AddressIn(CryptoSuiteId.Gm).Bytes]);
            Assert.Equal(78, new FileInfo(input).Length);

            Assert.Equal(0, GmThreeWayCrossCheckTests.OpenSsl(["dgst", "-sm3", "-binary", input], out var sm3));
            Assert.Equal(Convert.ToHexString(sm3), Convert.ToHexString(tx.Hash(domain).Bytes));
            ids.Add(tx.Hash(domain));
        }

        Assert.NotEqual(ids[0], ids[1]);
    }
}
