using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Testing.Evm;
using SmartCity.Testing.TestKit;
using Xunit.Abstractions;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// The contract on a real EVM (ganache): honest checkpoints are accepted and kept, and every forged one is reverted
/// with the custom error that names the check it failed. Each test deploys its own contract.
/// </summary>
public sealed class CheckpointAnchorContractTests(LocalEvmFixture evm, ITestOutputHelper output) : IClassFixture<LocalEvmFixture>
{
    private static readonly TestKey[] V = CertifiedChain.Validators;

    [EvmFact]
    public async Task A_deployed_contract_holds_the_genesis_chain_domain_and_validator_set()
    {
        var node = await evm.NodeAsync();
        using var chain = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(chain);
        var genesis = GenesisBuilder.Sample.Value;
        var anchor = Receipts.TrustAnchor.FromGenesis(genesis);

        var config = await contract.ReadConfigurationAsync(CancellationToken.None);

        Assert.Equal(genesis.ChainId, config.LedgerChainId);
        Assert.Equal((genesis.Eip712Domain.Name, genesis.Eip712Domain.Version), (config.DomainName, config.DomainVersion));
        Assert.Equal(anchor.DomainSeparator, config.DomainSeparator);
        Assert.Equal(anchor.Validators.Hash, config.ValidatorSetHash);
        Assert.Equal(anchor.Validators.Hash, config.GenesisValidatorSetHash);
        Assert.Equal(anchor.Validators.Members, config.Validators);
        Assert.Null(await contract.LatestHeightAsync(CancellationToken.None));
    }

    [EvmFact]
    public async Task The_contract_computes_the_same_commit_seal_digest_as_the_ledger()
    {
        var node = await evm.NodeAsync();
        using var chain = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(chain);
        var hash = Build.Id("some header");

        var digest = await contract.CommitSealDigestAsync(hash, 42, 3, CancellationToken.None);

        Assert.Equal(CommitSeal.Digest(AnchorTestKit.DomainSeparator, hash, 42, 3), digest);
    }

    [EvmFact]
    public async Task A_deployment_whose_validator_set_hash_is_not_the_hash_of_its_validators_is_refused()
    {
        var node = await evm.NodeAsync();
        using var chain = await AnchorTestKit.ConnectAsync(node);
        var validators = new ValidatorSet(V.Select(v => v.Address));
        var deployment = new CheckpointAnchorDeployment
        {
            LedgerChainId = 8610,
            Name = "SmartCity.Ledger",
            Version = "1",
            DomainChainId = 8610,
            InitialValidators = [.. validators.Members.Select(a => a.ToString())],
            ValidatorSetHash = new ValidatorSet(V.Take(3).Select(v => v.Address)).Hash.ToArray(),
        };
        var unordered = new CheckpointAnchorDeployment
        {
            LedgerChainId = 8610,
            Name = "SmartCity.Ledger",
            Version = "1",
            DomainChainId = 8610,
            InitialValidators = [.. validators.Members.Reverse().Select(a => a.ToString())],
            ValidatorSetHash = validators.Hash.ToArray(),
        };

        Assert.Equal("ValidatorSetHashMismatch", (await chain.EstimateDeploymentAsync(deployment, CancellationToken.None)).Refusal?.Error);
        Assert.Equal("MalformedValidatorSet(reason=not strictly ascending)", (await chain.EstimateDeploymentAsync(unordered, CancellationToken.None)).Refusal?.ToString());
    }

    [EvmFact]
    public async Task An_honest_checkpoint_is_accepted_stored_and_announced()
    {
        var node = await evm.NodeAsync();
        using var chain = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(chain);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 3);
        var block = ledger.Block(3);

        var result = await contract.AnchorAsync(block.Header.Encode(), block.Certificate.Encode(), CancellationToken.None);

        Assert.True(result.Status == SubmissionStatus.Confirmed, $"{result.Status}: {result.Refusal} {result.Problem}");
        Assert.Equal(3L, await contract.LatestHeightAsync(CancellationToken.None));
        var stored = await contract.CheckpointAtAsync(3, CancellationToken.None);
        Assert.Equal(new AnchoredCheckpoint(3, block.Header.Hash, block.Header.HistorySize, block.Header.HistoryRoot, block.Header.StateRoot, block.Header.TimestampMs, result.Transaction!.BlockNumber), stored);
        Assert.Equal([stored!], await contract.ReadCheckpointsAsync(CancellationToken.None));
        Assert.Null(await contract.CheckpointAtAsync(2, CancellationToken.None));
    }

    [EvmFact]
    public async Task Gas_per_anchor_with_four_validators_is_measured_for_three_and_four_seals()
    {
        var node = await evm.NodeAsync();
        using var chain = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(chain);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 3);

        // The first checkpoint also pays for creating the contract's list of heights; measure the two after it, which
        // write the same storage slots, one with all four seals and one with a quorum of three.
        var gas = new List<System.Numerics.BigInteger>();
        foreach (var (height, sealers) in new[] { (1L, new[] { V[0], V[1], V[2] }), (2L, V), (3L, new[] { V[1], V[2], V[3] }) })
        {
            var header = ledger.Block(height).Header;
            var result = await contract.AnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, AnchorTestKit.Seals(header, sealers)), CancellationToken.None);
            Assert.Equal(SubmissionStatus.Confirmed, result.Status);
            gas.Add(result.Transaction!.GasUsed);
            output.WriteLine($"anchor at height {height} with {sealers.Length} of 4 seals: {result.Transaction.GasUsed} gas");
        }

        // A seal costs an ecrecover (3,000 gas), a cold read of the signer's membership (2,100), hashing and its 65
        // bytes of calldata (up to 1,040): the fourth seal adds 5,000-12,000 gas, and no anchor needs 200,000.
        Assert.InRange((long)(gas[1] - gas[2]), 5_000, 12_000);
        Assert.All(gas, g => Assert.InRange((long)g, 100_000, 200_000));
    }

    [EvmFact]
    public async Task A_seal_from_a_non_validator_is_refused()
    {
        var (contract, header, _) = await ReadyAsync();
        var outsider = new TestKey(999, "outsider", "", "BJ");
        var seals = AnchorTestKit.Seals(header, V[0], V[1], outsider);

        var refusal = await contract.CheckAnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, seals), CancellationToken.None);

        Assert.Equal("SealNotByValidator", refusal?.Error);
        Assert.Equal(outsider.Address, Address.Parse(refusal!["signer"]!));
    }

    [EvmFact]
    public async Task A_duplicated_seal_is_refused()
    {
        var (contract, header, _) = await ReadyAsync();
        var seals = AnchorTestKit.Seals(header, V[0], V[1]);

        var refusal = await contract.CheckAnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, seals[0], seals[1], seals[1]), CancellationToken.None);

        Assert.Equal("DuplicateSigner", refusal?.Error);
        Assert.Equal("2", refusal!["index"]);
    }

    [EvmFact]
    public async Task Seals_out_of_signer_order_are_refused()
    {
        var (contract, header, _) = await ReadyAsync();
        var seals = AnchorTestKit.Seals(header, V[0], V[1], V[2]);

        var refusal = await contract.CheckAnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, seals[1], seals[0], seals[2]), CancellationToken.None);

        Assert.Equal("SealsOutOfOrder", refusal?.Error);
    }

    [EvmFact]
    public async Task Fewer_seals_than_the_quorum_are_refused()
    {
        var (contract, header, _) = await ReadyAsync();

        var refusal = await contract.CheckAnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, AnchorTestKit.Seals(header, V[0], V[3])), CancellationToken.None);

        Assert.Equal("TooFewSeals(seals=2, quorum=3)", refusal?.ToString());
    }

    [EvmFact]
    public async Task A_header_edited_after_sealing_is_refused_as_certified_for_another_header()
    {
        var (contract, header, certificate) = await ReadyAsync();
        var edited = AnchorTestKit.Edit(header, h => h with { StateRoot = Build.Id("another state") });

        var refusal = await contract.CheckAnchorAsync(edited.Encode(), certificate, CancellationToken.None);

        Assert.Equal("CertificateForAnotherHeader", refusal?.Error);
        Assert.Equal(edited.Hash.ToString(), refusal!["headerHash"]);
        Assert.Equal(header.Hash.ToString(), refusal["certifiedHash"]);
    }

    [EvmFact]
    public async Task A_header_of_another_chain_is_refused_even_with_valid_seals()
    {
        var (contract, header, _) = await ReadyAsync();
        var foreign = AnchorTestKit.Edit(header, h => h with { ChainId = 8611 });

        var refusal = await contract.CheckAnchorAsync(foreign.Encode(), AnchorTestKit.Certificate(foreign, AnchorTestKit.Seals(foreign, V)), CancellationToken.None);

        Assert.Equal("WrongChainId(expected=8610, actual=8611)", refusal?.ToString());
    }

    [EvmFact]
    public async Task A_header_that_names_another_validator_set_is_refused()
    {
        var (contract, header, _) = await ReadyAsync();
        var other = AnchorTestKit.Edit(header, h => h with { ValidatorSetHash = new ValidatorSet(V.Take(3).Select(v => v.Address)).Hash });

        var refusal = await contract.CheckAnchorAsync(other.Encode(), AnchorTestKit.Certificate(other, AnchorTestKit.Seals(other, V)), CancellationToken.None);

        Assert.Equal("WrongValidatorSet", refusal?.Error);
    }

    [EvmFact]
    public async Task A_lower_or_equal_height_is_refused_once_a_checkpoint_is_anchored()
    {
        var node = await evm.NodeAsync();
        using var chain = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(chain);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 3);
        Assert.Equal(SubmissionStatus.Confirmed, (await contract.AnchorAsync(ledger.Block(2).Header.Encode(), ledger.Block(2).Certificate.Encode(), CancellationToken.None)).Status);

        var equal = await contract.CheckAnchorAsync(ledger.Block(2).Header.Encode(), ledger.Block(2).Certificate.Encode(), CancellationToken.None);
        var lower = await contract.CheckAnchorAsync(ledger.Block(1).Header.Encode(), ledger.Block(1).Certificate.Encode(), CancellationToken.None);
        var higher = await contract.CheckAnchorAsync(ledger.Block(3).Header.Encode(), ledger.Block(3).Certificate.Encode(), CancellationToken.None);

        Assert.Equal("HeightNotIncreasing(height=2, latestHeight=2)", equal?.ToString());
        Assert.Equal("HeightNotIncreasing(height=1, latestHeight=2)", lower?.ToString());
        Assert.Null(higher);
    }

    [EvmFact]
    public async Task A_high_s_seal_is_refused_although_it_recovers_to_a_validator()
    {
        var (contract, header, _) = await ReadyAsync();
        var seals = AnchorTestKit.Seals(header, V[0], V[1], V[2]);
        seals[1] = AnchorTestKit.HighS(seals[1]);
        Assert.Equal(SignatureCheck.HighS, CertifiedChain.Curve.Recover(CommitSeal.Digest(AnchorTestKit.DomainSeparator, header.Hash, header.Height, header.Round), seals[1], out _));

        var refusal = await contract.CheckAnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, seals), CancellationToken.None);

        Assert.Equal("SealHighS(index=1)", refusal?.ToString());
    }

    [EvmFact]
    public async Task Seals_made_under_another_eip712_domain_are_refused_as_not_by_a_validator()
    {
        var (contract, header, _) = await ReadyAsync();
        var genesis = GenesisBuilder.Sample.Value;
        var otherDomain = new Eip712Domain(genesis.Eip712Domain.Name, "2", genesis.Eip712Domain.ChainId).Separator;
        Assert.NotEqual(AnchorTestKit.DomainSeparator, otherDomain);
        Signature[] seals = [.. V.Take(3).OrderBy(v => v.Address).Select(v => AnchorTestKit.Seal(header, v, otherDomain))];

        var refusal = await contract.CheckAnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, seals), CancellationToken.None);

        // ecrecover of a seal over another domain's digest yields an unrelated address, never the validator's.
        Assert.Equal("SealNotByValidator", refusal?.Error);
        Assert.Equal("0", refusal!["index"]);
        Assert.DoesNotContain(Address.Parse(refusal["signer"]!), V.Select(v => v.Address));
    }

    [EvmFact]
    public async Task A_seal_whose_v_is_not_27_or_28_is_refused()
    {
        var (contract, header, _) = await ReadyAsync();
        var seals = AnchorTestKit.Seals(header, V[0], V[1], V[2]);
        seals[2] = AnchorTestKit.WithV(seals[2], (byte)(seals[2].V - 27));

        var refusal = await contract.CheckAnchorAsync(header.Encode(), AnchorTestKit.Certificate(header, seals), CancellationToken.None);

        Assert.Equal($"SealVNotCanonical(index=2, v={seals[2].V})", refusal?.ToString());
    }

    [EvmFact]
    public async Task Bytes_that_are_not_a_header_or_a_certificate_are_refused_with_the_reason()
    {
        var (contract, header, certificate) = await ReadyAsync();
        var encoded = header.Encode();
        var version2 = (byte[])encoded.Clone();
        version2[0] = 2;
        var negativeHeight = (byte[])encoded.Clone();
        negativeHeight[9] = 0x80;

        Assert.Equal("MalformedHeader(reason=a header is 221 bytes)", (await contract.CheckAnchorAsync(encoded[..220], certificate, CancellationToken.None))?.ToString());
        Assert.Equal("MalformedHeader(reason=unknown header encoding version)", (await contract.CheckAnchorAsync(version2, certificate, CancellationToken.None))?.ToString());
        Assert.Equal("MalformedHeader(reason=negative height, round, transaction count or history size)", (await contract.CheckAnchorAsync(negativeHeight, certificate, CancellationToken.None))?.ToString());
        Assert.Equal("MalformedCertificate(reason=certificate too short)", (await contract.CheckAnchorAsync(encoded, certificate[..46], CancellationToken.None))?.ToString());
        Assert.Equal("MalformedCertificate(reason=seal count does not match the certificate's length)", (await contract.CheckAnchorAsync(encoded, certificate[..^1], CancellationToken.None))?.ToString());
    }

    /// <summary>A fresh contract and block 1 of a fresh certified chain with its honest certificate.</summary>
    private async Task<(CheckpointAnchorService Contract, BlockHeader Header, byte[] Certificate)> ReadyAsync()
    {
        var node = await evm.NodeAsync();
        var chain = await AnchorTestKit.ConnectAsync(node);
        var contract = await AnchorTestKit.DeployAsync(chain);
        await using var ledger = await CertifiedChain.CreateAsync(blocks: 1);
        var block = ledger.Block(1);
        return (contract, block.Header, block.Certificate.Encode());
    }
}
