using System.Text.Json.Nodes;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;
using SmartCity.Ledger.State;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Receipts;

/// <summary>The receipt proof tests, run once per crypto suite (eth and gm).</summary>
public abstract class ReceiptTests(CryptoSuiteId suite)
{
    private ISignatureScheme Curve { get; } = CryptoSuite.For(suite).Signatures;

    private SealedChain Chain(byte[]? licenceValue = null) => SealedChain.Build(licenceValue, suite);

    [Fact]
    public void A_transaction_inclusion_receipt_verifies_against_the_genesis_validators()
    {
        var chain = Chain();
        var verdict = ReceiptVerifier.Verify(chain.InclusionReceipt(5), chain.Anchor, Curve);
        Assert.True(verdict.IsValid, verdict.Reason);
    }

    [Fact]
    public void A_licence_status_receipt_proves_the_value_and_its_status()
    {
        var chain = Chain();
        var receipt = chain.StateReceipt(SealedChain.LicenceKey);
        Assert.True(ReceiptVerifier.Verify(receipt, chain.Anchor, Curve).IsValid);
        var licence = StateValue.Decode(receipt.Value!, LicenceState.Read);
        Assert.Equal(LicenceStatus.Valid, licence.Status);
    }

    [Fact]
    public void An_absence_receipt_proves_a_key_was_never_written_and_cannot_be_made_for_a_present_key()
    {
        var chain = Chain();
        Assert.True(ReceiptVerifier.Verify(chain.StateReceipt("licence/never-issued"), chain.Anchor, Curve).IsValid);

        var present = chain.StateReceipt(SealedChain.LicenceKey);
        var lie = present with { Value = null };
        Assert.Equal(ReceiptCheck.ProofInvalid, ReceiptVerifier.Verify(lie, chain.Anchor, Curve).Check);
    }

    [Fact]
    public void Receipts_survive_their_json_form()
    {
        var chain = Chain();
        foreach (Receipt receipt in new Receipt[] { chain.InclusionReceipt(0), chain.InclusionReceipt(36), chain.StateReceipt(SealedChain.LicenceKey), chain.StateReceipt("licence/none") })
        {
            var json = ReceiptJson.Write(receipt);
            Assert.True(ReceiptJson.TryParse(json, out var parsed, out var error), error);
            Assert.True(ReceiptVerifier.Verify(parsed, chain.Anchor, Curve).IsValid);
            Assert.Equal(json, ReceiptJson.Write(parsed));
        }
    }

    [Fact]
    public void Every_single_hex_digit_changed_in_a_receipt_makes_it_unreadable_or_invalid()
    {
        var chain = Chain();
        foreach (Receipt receipt in new Receipt[] { chain.InclusionReceipt(11), chain.StateReceipt(SealedChain.LicenceKey) })
        {
            var json = JsonNode.Parse(ReceiptJson.Write(receipt))!.AsObject();
            foreach (var (name, value) in json.ToList())
            {
                foreach (var variant in HexVariants(value))
                {
                    var tampered = json.DeepClone().AsObject();
                    tampered[name] = variant;
                    var accepted = ReceiptJson.TryParse(tampered.ToJsonString(), out var parsed, out _)
                        && ReceiptVerifier.Verify(parsed, chain.Anchor, Curve).IsValid;
                    Assert.False(accepted, $"a change in '{name}' went unnoticed: {variant?.ToJsonString()}");
                }
            }
        }
    }

    [Fact]
    public void A_receipt_checked_against_other_validators_or_another_chain_is_invalid()
    {
        var chain = Chain();
        var receipt = chain.InclusionReceipt(3);
        var strangers = chain.Anchor with { Validators = new ValidatorSet(Enumerable.Range(500, 4).Select(i => new TestKey(i, "v", "", "BJ").AddressIn(suite)), chain.Suite) };
        Assert.Equal(ReceiptCheck.CertificateInvalid, ReceiptVerifier.Verify(receipt, strangers, Curve).Check);
        Assert.Equal(ReceiptCheck.WrongChain, ReceiptVerifier.Verify(receipt, chain.Anchor with { ChainId = 1 }, Curve).Check);
    }

    [Fact]
    public void A_receipt_whose_proof_is_for_an_older_history_is_invalid()
    {
        var chain = Chain();
        var stale = chain.InclusionReceipt(3) with { Proof = chain.History.ProveInclusion(3, 20) };
        var verdict = ReceiptVerifier.Verify(stale, chain.Anchor, Curve);
        Assert.Equal(ReceiptCheck.ProofInvalid, verdict.Check);
        Assert.Contains("history of 20", verdict.Reason, StringComparison.Ordinal);
    }

    /// <summary>For a JSON value: each variant with one hex digit changed (strings), or with the number changed.</summary>
    internal static IEnumerable<JsonNode?> HexVariants(JsonNode? value)
    {
        switch (value)
        {
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var variant in HexVariants(array[i]))
                    {
                        var copy = array.DeepClone().AsArray();
                        copy[i] = variant;
                        yield return copy;
                    }
                }

                break;
            case JsonValue v when v.TryGetValue<string>(out var text) && text.StartsWith("0x", StringComparison.Ordinal):
                // Every position of short values; a spread of positions (all bytes' low nibble, stride 7) of long ones.
                var positions = text.Length <= 200 ? Enumerable.Range(2, text.Length - 2) : Enumerable.Range(2, text.Length - 2).Where(i => i % 7 == 0);
                foreach (var i in positions)
                {
                    var chars = text.ToCharArray();
                    chars[i] = chars[i] == '0' ? '1' : '0';
                    yield return JsonValue.Create(new string(chars));
                }

                break;
            case JsonValue v when v.TryGetValue<long>(out var number):
                yield return JsonValue.Create(number + 1);
                break;
        }
    }

    [Fact]
    public void A_receipt_of_one_suite_never_verifies_under_the_other_suite_and_the_refusal_is_WrongSuite()
    {
        var chain = Chain();
        var other = suite == CryptoSuiteId.Eth ? CryptoSuiteId.Gm : CryptoSuiteId.Eth;
        var otherChain = SealedChain.Build(null, other);
        foreach (Receipt receipt in new Receipt[] { chain.InclusionReceipt(4), chain.StateReceipt(SealedChain.LicenceKey) })
        {
            Assert.Equal(suite, receipt.Crypto);
            Assert.True(ReceiptVerifier.Verify(receipt, chain.Anchor, Curve).IsValid);

            // Under the other suite's anchor and scheme, and under this anchor with the other suite's scheme.
            Assert.Equal(ReceiptCheck.WrongSuite, ReceiptVerifier.Verify(receipt, otherChain.Anchor, otherChain.Curve).Check);
            Assert.Equal(ReceiptCheck.WrongSuite, ReceiptVerifier.Verify(receipt, chain.Anchor, otherChain.Curve).Check);

            // The JSON names the suite; the document check refuses it under the other anchor as Invalid, not as a crash.
            var json = ReceiptJson.Write(receipt);
            Assert.Equal(suite.ToName(), JsonNode.Parse(json)!["crypto"]!.GetValue<string>());
            var report = ReceiptVerifier.VerifyDocument(System.Text.Encoding.UTF8.GetBytes(json), otherChain.Anchor, otherChain.Curve);
            Assert.Equal((ReceiptOutcome.Invalid, ReceiptCheck.WrongSuite), (report.Outcome, report.Check));
        }

        // A header relabelled to the other suite hashes differently, so its certificate no longer matches it.
        var relabelled = chain.InclusionReceipt(4) with { Header = chain.Head with { Crypto = other } };
        Assert.False(ReceiptVerifier.Verify(relabelled, chain.Anchor, Curve).IsValid);
    }

    [Fact]
    public void A_receipt_whose_crypto_field_disagrees_with_its_header_is_a_copy_mismatch()
    {
        var json = JsonNode.Parse(ReceiptJson.Write(Chain().InclusionReceipt(2)))!.AsObject();
        json["crypto"] = suite == CryptoSuiteId.Eth ? "gm" : "eth";
        Assert.True(ReceiptJson.TryParse(json.ToJsonString(), out _, out var error) is false);
        Assert.StartsWith("crypto", error, StringComparison.Ordinal);
    }

    public sealed class Eth() : ReceiptTests(CryptoSuiteId.Eth);

    public sealed class Gm() : ReceiptTests(CryptoSuiteId.Gm);
}

/// <summary>The receipt format's fixed examples (eth: RFC 6979 seals make them reproducible) and malformed documents.</summary>
public sealed class ReceiptFormatTests
{
    private static readonly ISignatureScheme Curve = CryptoSuite.Eth.Signatures;

    /// <summary>
    /// The example receipts under docs/examples/receipts are this chain's receipts, byte for byte (RFC 6979 seals and a
    /// seeded chain make them reproducible). Set SMARTCITY_WRITE_EXAMPLES=1 to rewrite them after a format change.
    /// </summary>
    [Theory]
    [InlineData("docs/examples/receipts/transaction-inclusion.json")]
    [InlineData("docs/examples/receipts/licence-status.json")]
    public void The_committed_example_receipts_are_what_the_verifier_accepts(string path)
    {
        var chain = SealedChain.Build();
        Receipt receipt = path.Contains("licence", StringComparison.Ordinal) ? chain.StateReceipt(SealedChain.LicenceKey) : chain.InclusionReceipt(7);
        var json = ReceiptJson.Write(receipt) + "\n";
        if (Environment.GetEnvironmentVariable("SMARTCITY_WRITE_EXAMPLES") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(RepositoryFiles.PathOf(path))!);
            File.WriteAllText(RepositoryFiles.PathOf(path), json);
        }

        Assert.Equal(json, RepositoryFiles.Read(path));
        Assert.True(ReceiptJson.TryParse(json, out var parsed, out _) && ReceiptVerifier.Verify(parsed, chain.Anchor, Curve).IsValid);
    }

    [Theory]
    [InlineData("blockTime", "\"2001-01-01T00:00:00.0000000+00:00\"")]
    [InlineData("height", "2")]
    [InlineData("headerHash", "\"0x0000000000000000000000000000000000000000000000000000000000000000\"")]
    public void The_readable_copies_of_header_fields_must_match_the_signed_header(string field, string value)
    {
        var json = JsonNode.Parse(ReceiptJson.Write(SealedChain.Build().InclusionReceipt(1)))!.AsObject();
        json[field] = JsonNode.Parse(value);
        Assert.False(ReceiptJson.TryParse(json.ToJsonString(), out _, out var error));
        Assert.StartsWith(field, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}", "format: missing")]
    [InlineData("[]", "a receipt is a JSON object")]
    [InlineData("{\"format\":\"smartcity.receipt\",\"version\":4}", "version")]
    [InlineData("not json", "not JSON")]
    public void Malformed_receipts_are_rejected_with_the_field_that_is_wrong(string json, string expected)
    {
        Assert.False(ReceiptJson.TryParse(json, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

}
