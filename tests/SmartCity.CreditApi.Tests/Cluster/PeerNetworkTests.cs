using SmartCity.CreditApi.Peers;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;

namespace SmartCity.CreditApi.Tests.Cluster;

/// <summary>The peer network's bounds and configuration checks, without any process.</summary>
public sealed class PeerNetworkTests
{
    private static readonly InMemorySigner[] Keys = [.. Enumerable.Range(0, 4).Select(_ => InMemorySigner.Generate())];

    private static PeerNetwork Network(params PeerEndpoint[] peers)
        => new(1, [.. Keys.Select(k => k.Address)], new Eip712ConsensusCrypto(default, new SignatureBatchVerifier(Secp256k1.Default)), Keys[0], peers);

    [Fact]
    public void Messages_for_peers_whose_links_are_down_are_dropped_and_counted_without_blocking_the_engine()
    {
        var network = Network(new PeerEndpoint("TJ", Keys[1].Address, new Uri("http://127.0.0.1:1")), new PeerEndpoint("HE", Keys[2].Address, new Uri("http://127.0.0.1:2")));
        for (var i = 0; i < 10_000; i++)
        {
            network.Broadcast(new byte[] { 1, 2, 3 });
        }

        network.Relay([new byte[] { 4 }]);
        Assert.Equal(2 * 10_001, network.SendDropped);
        Assert.Equal(0, network.ConnectedPeers);
    }

    [Fact]
    public void A_peer_outside_the_genesis_set_may_be_named_but_is_not_in_force_and_the_node_itself_is_a_configuration_error()
    {
        // A validator not in the genesis may be named (it may be voted in later: dialed once in force, docs/consensus.md).
        using var outsider = InMemorySigner.Generate();
        var network = Network(new PeerEndpoint("TJ", outsider.Address, new Uri("http://127.0.0.1:1")));
        Assert.False(network.IsValidator(outsider.Address));
        Assert.True(network.IsValidator(Keys[1].Address));
        Assert.Throws<ArgumentException>(() => Network(new PeerEndpoint("BJ", Keys[0].Address, new Uri("http://127.0.0.1:1"))));
    }

    [Fact]
    public void Peers_head_is_the_height_f_plus_one_peers_reported_so_one_liar_cannot_raise_it()
    {
        var network = Network();
        Assert.Equal(0, network.PeersHead);
        network.ReportHead(Keys[1].Address, 1_000_000); // one peer claims a height nobody else has
        Assert.Equal(0, network.PeersHead);
        network.ReportHead(Keys[2].Address, 12);
        Assert.Equal(12, network.PeersHead);
        network.ReportHead(Keys[3].Address, 15);
        Assert.Equal(15, network.PeersHead);
    }

    [Fact]
    public void A_peers_reported_head_only_rises_within_a_connection_and_a_new_handshake_replaces_it()
    {
        var network = Network(new PeerEndpoint("TJ", Keys[1].Address, new Uri("http://127.0.0.1:1")));
        Assert.Equal(-1, network.ReportedHead(Keys[1].Address));
        network.ReportHead(Keys[1].Address, 40, handshake: true);
        network.ReportHead(Keys[1].Address, 41); // a batch
        network.ReportHead(Keys[1].Address, 39); // an older frame overtaken by the newer one
        Assert.Equal(41, network.ReportedHead(Keys[1].Address));
        Assert.Equal(41, Assert.Single(network.LinkStates).ReportedHead);

        // It restarted from a store that had lost its last blocks: its next handshake says so.
        network.ReportHead(Keys[1].Address, 37, handshake: true);
        Assert.Equal(37, network.ReportedHead(Keys[1].Address));
        Assert.False(network.LinkStates[0].Connected);
    }
}
