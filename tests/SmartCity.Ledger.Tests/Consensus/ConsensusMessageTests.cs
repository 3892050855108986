using System.Text.Json.Nodes;
using SmartCity.Ledger.Consensus;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Testing;

namespace SmartCity.Ledger.Tests.Consensus;

/// <summary>The signed forms (EIP-712, contracts/eip712/consensus-messages.json) and the wire form (ConsensusCodec).</summary>
public sealed class ConsensusMessageTests
{
    private readonly ConsensusTestKit _kit = new();

    public static TheoryData<string> Kinds => ["QbftProposal", "QbftPrepare", "QbftCommit", "QbftRoundChange"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_message_digest_is_the_eip712_digest_of_its_committed_schema_under_the_consortium_domain(string type)
    {
        var hash = Keccak256.Hash("block"u8);
        var seal = _kit.Signers[0].Sign(hash);
        var (message, digest) = type switch
        {
            "QbftProposal" => (new JsonObject { ["height"] = 7, ["round"] = 2, ["blockHash"] = hash.ToString() }, _kit.Crypto.MessageDigest(new QbftProposal(7, 2, hash))),
            "QbftPrepare" => (new JsonObject { ["height"] = 7, ["round"] = 2, ["blockHash"] = hash.ToString() }, _kit.Crypto.MessageDigest(new QbftPrepare(7, 2, hash))),
            "QbftCommit" => (new JsonObject { ["height"] = 7, ["round"] = 2, ["blockHash"] = hash.ToString(), ["commitSeal"] = seal.ToString() },
                _kit.Crypto.MessageDigest(new QbftCommit(7, 2, hash, seal))),
            _ => (new JsonObject { ["height"] = 7, ["round"] = 2, ["prepared"] = true, ["preparedRound"] = 1, ["preparedBlockHash"] = hash.ToString() },
                _kit.Crypto.MessageDigest(new QbftRoundChange(7, 2, true, 1, hash))),
        };

        var schema = JsonNode.Parse(RepositoryFiles.Read("contracts/eip712/consensus-messages.json"))!;
        var types = new JsonObject
        {
            ["EIP712Domain"] = schema["types"]!["EIP712Domain"]!.DeepClone(),
            [type] = schema["types"]![type]!.DeepClone(),
        };
        var typedData = new JsonObject
        {
            ["types"] = types,
            ["primaryType"] = type,
            ["domain"] = new JsonObject { ["name"] = "SmartCity.Ledger", ["version"] = "1", ["chainId"] = 8610 },
            ["message"] = message,
        };
        Assert.Equal(Eip712TypedData.Parse(typedData.ToJsonString()).ComputeDigest(), digest);
    }

    [Fact]
    public void Message_kinds_have_distinct_type_hashes_so_a_prepare_is_never_a_proposal()
    {
        var hash = Keccak256.Hash("block"u8);
        var digests = new[]
        {
            _kit.Crypto.MessageDigest(new QbftProposal(1, 0, hash)),
            _kit.Crypto.MessageDigest(new QbftPrepare(1, 0, hash)),
            _kit.Crypto.SealDigest(hash, 1, 0),
        };
        Assert.Equal(3, digests.Distinct().Count());
    }

    [Fact]
    public void Every_message_kind_survives_the_wire_encoding_byte_for_byte()
    {
        foreach (var message in Samples())
        {
            var bytes = ConsensusCodec.Encode(message);
            Assert.True(ConsensusCodec.TryDecode(bytes, out var decoded, out var error), error);
            Assert.Equal(message.GetType(), decoded.GetType());
            Assert.Equal(bytes, ConsensusCodec.Encode(decoded));
            Assert.Equal((message.Sender, message.Height, message.Round, message.Signature), (decoded.Sender, decoded.Height, decoded.Round, decoded.Signature));
        }
    }

    [Fact]
    public void Truncated_extended_or_corrupted_encodings_are_typed_failures_never_exceptions()
    {
        var random = new Random(42);
        foreach (var message in Samples())
        {
            var bytes = ConsensusCodec.Encode(message);
            for (var length = 0; length < bytes.Length; length++)
            {
                Assert.False(ConsensusCodec.TryDecode(bytes.AsMemory(0, length), out _, out var error));
                Assert.False(string.IsNullOrEmpty(error));
            }

            Assert.False(ConsensusCodec.TryDecode((byte[])[.. bytes, 0], out _, out var trailing));
            Assert.Contains("trailing", trailing, StringComparison.Ordinal);
            for (var i = 0; i < 300; i++)
            {
                var corrupted = (byte[])bytes.Clone();
                corrupted[random.Next(corrupted.Length)] ^= (byte)(1 << random.Next(8));
                ConsensusCodec.TryDecode(corrupted, out _, out _);
            }
        }

        Assert.False(ConsensusCodec.TryDecode(new byte[] { 9, 2 }, out _, out var version));
        Assert.Contains("version", version, StringComparison.Ordinal);
        Assert.False(ConsensusCodec.TryDecode(new byte[] { 1, 9 }, out _, out var kind));
        Assert.Contains("kind", kind, StringComparison.Ordinal);
    }

    [Fact]
    public void Journal_round_trips_with_its_prepared_certificate_accepted_proposal_and_votes()
    {
        var samples = Samples();
        var proposal = samples.OfType<ProposalMessage>().First();
        var state = new ConsensusJournalState(1, 2, _kit.Prepared(1, _kit.Block(1, 1), 0, 1, 2), proposal, [.. samples.Where(m => m is not ProposalMessage)]);
        var bytes = ConsensusCodec.EncodeJournal(state);
        Assert.True(ConsensusCodec.TryDecodeJournal(bytes, out var decoded, out var error), error);
        Assert.Equal((state.Height, state.Round, state.Sent.Length), (decoded.Height, decoded.Round, decoded.Sent.Length));
        Assert.Equal(state.LastPrepared!.Block.Hash, decoded.LastPrepared!.Block.Hash);
        Assert.Equal(bytes, ConsensusCodec.EncodeJournal(decoded));
        Assert.False(ConsensusCodec.TryDecodeJournal(bytes.AsMemory(0, bytes.Length - 1), out _, out _));
    }

    [Fact]
    public void Messages_and_journals_of_a_gm_chain_carry_128_byte_sm2_signatures_and_seals_under_version_2()
    {
        using var sm2 = new InMemorySigner(CryptoSuite.Gm.Hash("gm validator"u8).Bytes, CryptoSuite.Gm.Signatures);
        Signature Sign(string what) => sm2.Sign(CryptoSuite.Gm.Hash(System.Text.Encoding.UTF8.GetBytes(what)));
        var block = _kit.Block(0, 0);
        var prepare = new PrepareMessage(new QbftPrepare(1, 0, block.Hash), sm2.Address, Sign("prepare"));
        var roundChange = new SignedRoundChange(new QbftRoundChange(1, 1, true, 0, block.Hash), sm2.Address, Sign("round change"));
        var proposal = new ProposalMessage(new QbftProposal(1, 1, block.Hash), sm2.Address, Sign("proposal"), block, [roundChange], [prepare]);
        ConsensusMessage[] messages =
        [
            prepare,
            new CommitMessage(new QbftCommit(1, 0, block.Hash, Sign("seal")), sm2.Address, Sign("commit")),
            new RoundChangeMessage(roundChange, block, [prepare]),
            proposal,
        ];

        foreach (var message in messages)
        {
            var bytes = ConsensusCodec.Encode(message);
            Assert.Equal(ConsensusCodec.GmEncodingVersion, bytes[0]);
            Assert.True(ConsensusCodec.TryDecode(bytes, out var decoded, out var error), error);
            Assert.Equal(bytes, ConsensusCodec.Encode(decoded));
            Assert.Equal((CryptoSuiteId.Gm, message.Signature), (decoded.Signature.Suite, decoded.Signature));

            bytes[0] = ConsensusCodec.EncodingVersion; // read as eth, the 128-byte signatures no longer fit
            Assert.False(ConsensusCodec.TryDecode(bytes, out _, out _));
        }

        var journal = ConsensusCodec.EncodeJournal(new ConsensusJournalState(1, 1, new PreparedCertificate(0, block, [prepare]), proposal, [.. messages]));
        Assert.True(ConsensusCodec.TryDecodeJournal(journal, out var state, out var journalError), journalError);
        Assert.Equal(prepare.Signature, state.LastPrepared!.Prepares.Single().Signature);
        Assert.Equal(journal, ConsensusCodec.EncodeJournal(state));

        // One message is of one suite: an eth proposal justified by a gm PREPARE cannot be encoded.
        Assert.Throws<ArgumentException>(() => ConsensusCodec.Encode(new ProposalMessage(proposal.Payload, proposal.Sender, _kit.Signers[0].Sign(block.Hash), block, [roundChange], [prepare])));
    }

    private List<ConsensusMessage> Samples()
    {
        var block = _kit.Block(0, 0) is var b ? new ProposedBlock(b.Header, [new byte[] { 1, 2, 3 }, Array.Empty<byte>()]) : null!;
        var prepared = _kit.Prepared(0, block, 0, 1, 2);
        return
        [
            _kit.Proposal(0, 0, block),
            _kit.Proposal(1, 1, block, _kit.RoundChanges(1, (0, prepared), (2, null), (3, null)), prepared.Prepares),
            _kit.Prepare(1, 0, block),
            _kit.Commit(2, 0, block),
            _kit.RoundChange(3, 1),
            _kit.RoundChange(3, 1, prepared),
        ];
    }
}
