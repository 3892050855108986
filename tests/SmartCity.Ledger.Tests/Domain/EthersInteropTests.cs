using System.Text.Json;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

/// <summary>
/// Transactions signed by ethers' <c>Wallet.signTypedData</c> against the committed schema
/// (tests/interop/eip712/sign-transactions.js, output committed) are accepted by the engine as they are, and their
/// ids are the ones ethers computes from docs/domain.md ("Transaction id") with <c>solidityPackedKeccak256</c>.
/// </summary>
public sealed class EthersInteropTests
{
    [Fact]
    public void Transactions_signed_with_ethers_have_the_same_digest_and_id_and_are_accepted()
    {
        using var fixture = JsonDocument.Parse(RepositoryFiles.Read("tests/interop/eip712/ethers-signed-transactions.json"));
        var ledger = TestLedger.Start();
        var count = 0;
        foreach (var item in fixture.RootElement.GetProperty("transactions").EnumerateArray())
        {
            var kind = Enum.Parse<TransactionKind>(item.GetProperty("primaryType").GetString()!);
            var message = new JsonFieldReader(item.GetProperty("message"));
            var nonce = message.UInt64(SignedTransaction.NonceField);
            var body = TransactionCatalogue.Read(kind, message);
            Assert.Null(message.Error);

            var transaction = new SignedTransaction(
                item.GetProperty("domain").GetProperty("chainId").GetUInt64(),
                Address.Parse(item.GetProperty("signer").GetString()!),
                nonce,
                body,
                Signature.Parse(item.GetProperty("signature").GetString()!));

            Assert.Equal(Hash256.Parse(item.GetProperty("digest").GetString()!), transaction.SigningDigest(ledger.Machine.Domain));
            var id = Hash256.Parse(item.GetProperty("id").GetString()!);
            Assert.Equal(id, transaction.Hash(ledger.Machine.Domain));
            var transition = ledger.Submit(TransactionCodec.Encode(transaction));
            Assert.True(transition.IsAccepted, $"{kind}: {transition}");
            Assert.Equal(id, transition.TransactionHash);
            count++;
        }

        Assert.Equal(4, count);
    }
}
