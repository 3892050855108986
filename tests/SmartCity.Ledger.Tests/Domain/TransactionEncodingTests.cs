using System.Text;
using SmartCity.Ledger.Codec;
using SmartCity.Ledger.Crypto.Eip712;
using SmartCity.Ledger.Domain.Identifiers;
using SmartCity.Ledger.Domain.Transactions;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

public sealed class TransactionEncodingTests
{
    private const string SchemaPath = "contracts/eip712/transactions.json";

    public static TheoryData<TransactionKind> Kinds => [.. TransactionCatalogue.Kinds];

    [Fact]
    public void There_is_a_sample_of_every_kind() => Assert.Equal(TransactionCatalogue.Kinds.Order(), SampleTransactions.OfEveryKind.Select(b => b.Kind).Order());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_round_trips_through_its_canonical_bytes(TransactionKind kind)
    {
        var signed = TestLedger.Sign(GenesisBuilder.Sample.Value, TestKeys.BeijingRegulator, Sample(kind), nonce: 42);
        var bytes = TransactionCodec.Encode(signed);
        var decoded = TransactionCodec.Decode(bytes);

        Assert.True(decoded.IsValid, decoded.Error);
        Assert.Equal(bytes, TransactionCodec.Encode(decoded.Transaction!));
        Assert.Equal((TransactionCodec.FormatVersion, (byte)kind), (bytes[0], bytes[1]));
    }

    [Fact]
    public void Canonical_bytes_have_the_documented_layout()
    {
        var vote = new GovernanceVote(Build.Id("p"), Approve: true);
        var signed = TestLedger.Sign(GenesisBuilder.Sample.Value, TestKeys.BeijingRegulator, vote, nonce: 0x0102);
        var expected = Convert.FromHexString("01" + "33" + "00000000000021A2")
            .Concat(TestKeys.BeijingRegulator.Address.ToArray())
            .Concat(Convert.FromHexString("0000000000000102"))
            .Concat(Build.Id("p").ToArray())
            .Concat(new byte[] { 1 })
            .Concat(signed.Signature.ToArray());
        Assert.Equal(expected, TransactionCodec.Encode(signed));
    }

    [Theory]
    [InlineData("trailing")]
    [InlineData("truncated")]
    [InlineData("unknown kind")]
    [InlineData("unknown format")]
    [InlineData("bool 2")]
    [InlineData("invalid utf-8")]
    [InlineData("string longer than input")]
    [InlineData("empty")]
    public void Decoding_refuses_non_canonical_or_damaged_bytes(string damage)
    {
        var vote = TransactionCodec.Encode(TestLedger.Sign(GenesisBuilder.Sample.Value, TestKeys.BeijingRegulator, new GovernanceVote(Build.Id("p"), true), 0));
        var repair = TransactionCodec.Encode(TestLedger.Sign(GenesisBuilder.Sample.Value, TestKeys.BeijingRegulator, new CreditRecordRepair(Build.Id("r"), "ab"), 0));
        const int FieldsAt = 1 + 1 + 8 + 20 + 8;
        byte[] bytes = damage switch
        {
            "trailing" => [.. vote, 0],
            "truncated" => vote[..^1],
            "unknown kind" => [vote[0], 99, .. vote[2..]],
            "unknown format" => [2, .. vote[1..]],
            "bool 2" => [.. vote[..(FieldsAt + 32)], 2, .. vote[(FieldsAt + 33)..]],
            "invalid utf-8" => [.. repair[..(FieldsAt + 32 + 4)], 0xC3, 0x28, .. repair[(FieldsAt + 32 + 6)..]],
            "string longer than input" => [.. repair[..(FieldsAt + 32)], 0x7F, 0xFF, 0xFF, 0xFF, .. repair[(FieldsAt + 36)..]],
            _ => [],
        };

        var decoded = TransactionCodec.Decode(bytes);
        Assert.False(decoded.IsValid);
        Assert.False(string.IsNullOrEmpty(decoded.Error));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_signed_digest_is_the_eip712_digest_an_independent_encoder_computes(TransactionKind kind)
    {
        var genesis = GenesisBuilder.Sample.Value;
        var signed = TestLedger.Sign(genesis, TestKeys.BeijingRegulator, Sample(kind), nonce: 7);
        var domain = new Eip712Domain(genesis.Eip712Domain.Name, genesis.Eip712Domain.Version, genesis.ChainId);

        var typedData = TypedDataJson.Of(genesis, signed);
        var independent = Eip712TypedData.Parse(typedData).ComputeDigest();

        Assert.Equal(independent, signed.SigningDigest(domain));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_message_in_eip712_json_reads_back_to_the_same_body(TransactionKind kind)
    {
        var signed = TestLedger.Sign(GenesisBuilder.Sample.Value, TestKeys.BeijingRegulator, Sample(kind), nonce: 7);
        using var json = System.Text.Json.JsonDocument.Parse(TypedDataJson.Of(GenesisBuilder.Sample.Value, signed));
        var reader = new JsonFieldReader(json.RootElement.GetProperty("message"));
        var body = TransactionCatalogue.Read(kind, reader);
        Assert.Null(reader.Error);
        Assert.Equal(TransactionCodec.Encode(signed), TransactionCodec.Encode(signed with { Body = body }));
    }

    [Fact]
    public void The_committed_eip712_schema_is_the_one_the_code_signs()
    {
        var generated = TransactionSchema.ToJson();
        if (Environment.GetEnvironmentVariable("UPDATE_EIP712_SCHEMA") == "1")
        {
            File.WriteAllText(RepositoryFiles.PathOf(SchemaPath), generated);
        }

        Assert.Equal(generated, RepositoryFiles.Read(SchemaPath));
    }

    [Fact]
    public void No_resident_id_number_reaches_the_encoded_bytes_of_a_record_about_a_natural_person()
    {
        const string IdNumber = "11010519491231002X";
        var secret = Encoding.ASCII.GetBytes("consortium secret for tests only, 32+ bytes");
        var subject = new SubjectKeyDerivation(secret).Derive(ResidentIdNumber.Parse(IdNumber).Value);
        var ledger = TestLedger.Start();

        var record = Build.A.CreditRecord.By(TestKeys.BeijingRegulator).For(subject);
        var bytes = TransactionCodec.Encode(ledger.Sign(record.Signer, record.Body()));
        var transition = ledger.Submit(bytes);

        Assert.True(transition.IsAccepted, transition.ToString());
        foreach (var haystack in transition.Writes.Select(w => w.Value!).Append(bytes))
        {
            foreach (var needle in new[] { IdNumber, IdNumber[..17], "19491231", "110105194912" })
            {
                Assert.Equal(-1, haystack.AsSpan().IndexOf(Encoding.ASCII.GetBytes(needle)));
                Assert.Equal(-1, haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle.ToLowerInvariant())));
            }
        }
    }

    private static ITransactionBody Sample(TransactionKind kind) => SampleTransactions.OfEveryKind.Single(b => b.Kind == kind);
}
