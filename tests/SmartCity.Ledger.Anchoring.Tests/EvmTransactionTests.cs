using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Crypto;
using SmartCity.Testing.Evm;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// Transactions are built here and signed through the submitter's ISigner: on a chain with a base fee they go out as
/// EIP-1559 (type 2) transactions, on one without as legacy EIP-155 transactions, and the node recovers the signer's
/// address as their sender either way.
/// </summary>
public sealed class EvmTransactionTests(LocalEvmFixture evm) : IClassFixture<LocalEvmFixture>
{
    [EvmFact]
    public async Task On_a_chain_with_a_base_fee_an_anchor_is_an_eip1559_transaction_from_the_signers_address()
    {
        var node = await evm.NodeAsync();

        var (type, from) = await AnchorOnceAsync(node);

        Assert.Equal(2, type);
        Assert.Equal(AnchorTestKit.SignerOf(node, 0).Address, from);
    }

    [EvmFact]
    public async Task On_a_chain_without_a_base_fee_an_anchor_is_a_legacy_eip155_transaction_from_the_signers_address()
    {
        await using var berlin = await LocalEvmNode.StartAsync(hardfork: "berlin", chainId: 4242);

        var (type, from) = await AnchorOnceAsync(berlin);

        Assert.Equal(0, type);
        Assert.Equal(AnchorTestKit.SignerOf(berlin, 0).Address, from);
    }

    /// <summary>Deploys, anchors block 1 and returns the anchor transaction's type and sender as the node reports them.</summary>
    private static async Task<(int Type, Address From)> AnchorOnceAsync(LocalEvmNode node)
    {
        using var chain = await AnchorTestKit.ConnectAsync(node);
        Assert.Equal(node.Hardfork != "berlin", chain.UsesEip1559);
        var contract = await AnchorTestKit.DeployAsync(chain);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 1);

        var result = await contract.AnchorAsync(ledger.Block(1).Header.Encode(), ledger.Block(1).Certificate.Encode(), CancellationToken.None);

        Assert.True(result.Status == SubmissionStatus.Confirmed, $"{result.Status}: {result.Refusal} {result.Problem}");
        var sent = await chain.Web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(result.TransactionHash);
        return ((int)(sent.Type?.Value ?? 0), Address.Parse(sent.From));
    }
}
