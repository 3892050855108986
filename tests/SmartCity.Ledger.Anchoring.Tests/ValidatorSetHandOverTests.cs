using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Testing.Evm;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// Validator-set hand-over on a real EVM: the ledger's members vote a validator in (or out), the block that changes
/// the set is certified by the outgoing set, and only that certificate, with a state proof of the incoming set under
/// the block's state root, moves the contract to the incoming set.
/// </summary>
public sealed class ValidatorSetHandOverTests(LocalEvmFixture evm) : IClassFixture<LocalEvmFixture>
{
    private static readonly TestKey[] V = CertifiedChain.Validators;
    private static readonly TestKey Newcomer = new(105, "BJ validator 2", "", "BJ");

    [EvmFact]
    public async Task A_hand_over_certified_by_the_outgoing_set_installs_the_incoming_set_which_then_seals_the_checkpoints()
    {
        var (contract, ledger) = await ReadyAsync();
        await using var _ = ledger;
        var change = await ledger.ChangeValidatorsAsync(GovernanceAction.AddValidator, Newcomer);
        var incoming = ledger.CurrentValidatorSet();
        Assert.Equal(5, incoming.Members.Length);
        // The next header names the incoming set (the in-process LedgerChain's proposer still names the genesis set, so
        // the test sets the field the node runtime fills from the state).
        var next = AnchorTestKit.Edit(ledger.ProposeRecord(), h => h with { ValidatorSetHash = incoming.Hash });
        var nextCertificate = AnchorTestKit.Certificate(next, AnchorTestKit.Seals(next, V[0], V[1], V[3], Newcomer));
        Assert.Equal("WrongValidatorSet", (await contract.CheckAnchorAsync(next.Encode(), nextCertificate, CancellationToken.None))?.Error);

        var handOver = await contract.HandOverAsync(change.Header.Encode(), change.Certificate.Encode(), incoming, ledger.ValidatorSetProofAt(change.Header.Height).Encode(), CancellationToken.None);

        Assert.True(handOver.Status == SubmissionStatus.Confirmed, $"{handOver.Status}: {handOver.Refusal} {handOver.Problem}");
        var config = await contract.ReadConfigurationAsync(CancellationToken.None);
        Assert.Equal(incoming.Hash, config.ValidatorSetHash);
        Assert.Equal(incoming.Members, config.Validators);
        Assert.Equal(change.Header.Height + 1, config.ValidatorSetSince);
        Assert.Equal(change.Header.Height, await contract.LatestHeightAsync(CancellationToken.None));
        var byOutgoingQuorum = AnchorTestKit.Certificate(next, AnchorTestKit.Seals(next, V[0], V[1], V[3]));
        Assert.Equal("TooFewSeals(seals=3, quorum=4)", (await contract.CheckAnchorAsync(next.Encode(), byOutgoingQuorum, CancellationToken.None))?.ToString());
        var anchored = await contract.AnchorAsync(next.Encode(), nextCertificate, CancellationToken.None);
        Assert.True(anchored.Status == SubmissionStatus.Confirmed, $"{anchored.Status}: {anchored.Refusal}");
        Assert.Equal(next.Height, await contract.LatestHeightAsync(CancellationToken.None));
    }

    [EvmFact]
    public async Task A_hand_over_sealed_with_the_incoming_validator_instead_of_a_quorum_of_the_outgoing_set_is_refused()
    {
        var (contract, ledger) = await ReadyAsync();
        await using var _ = ledger;
        var change = await ledger.ChangeValidatorsAsync(GovernanceAction.AddValidator, Newcomer);
        var header = change.Header;
        var proof = ledger.ValidatorSetProofAt(header.Height).Encode();
        var incoming = ledger.CurrentValidatorSet();

        var byNewcomer = await contract.CheckHandOverAsync(header.Encode(), AnchorTestKit.Certificate(header, AnchorTestKit.Seals(header, V[0], V[1], Newcomer)), incoming, proof, CancellationToken.None);
        var belowQuorum = await contract.CheckHandOverAsync(header.Encode(), AnchorTestKit.Certificate(header, AnchorTestKit.Seals(header, V[0], V[1])), incoming, proof, CancellationToken.None);

        Assert.Equal("SealNotByValidator", byNewcomer?.Error);
        Assert.Equal(Newcomer.Address, Address.Parse(byNewcomer!["signer"]!));
        Assert.Equal("TooFewSeals(seals=2, quorum=3)", belowQuorum?.ToString());
        Assert.Equal(new ValidatorSet(V.Select(v => v.Address)).Hash, (await contract.ReadConfigurationAsync(CancellationToken.None)).ValidatorSetHash);
    }

    [EvmFact]
    public async Task A_hand_over_to_a_set_the_certified_state_does_not_hold_is_refused()
    {
        var (contract, ledger) = await ReadyAsync();
        await using var _ = ledger;
        var change = await ledger.ChangeValidatorsAsync(GovernanceAction.AddValidator, Newcomer);
        var forged = new ValidatorSet([.. V.Select(v => v.Address), TestKeys.Outsider.Address]);

        var refusal = await contract.CheckHandOverAsync(change.Header.Encode(), change.Certificate.Encode(), forged, ledger.ValidatorSetProofAt(change.Header.Height).Encode(), CancellationToken.None);
        var honest = await contract.CheckHandOverAsync(change.Header.Encode(), change.Certificate.Encode(), ledger.CurrentValidatorSet(), ledger.ValidatorSetProofAt(change.Header.Height).Encode(), CancellationToken.None);

        Assert.Equal("ValidatorSetNotInState", refusal?.Error);
        Assert.Null(honest);
    }

    private async Task<(CheckpointAnchorService Contract, CertifiedChain Ledger)> ReadyAsync()
    {
        var node = await evm.NodeAsync();
        var chain = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(chain);
        var ledger = await CertifiedChain.CreateAsync(blocks: 1);
        return (contract, ledger);
    }
}
