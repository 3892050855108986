using System.Text;
using System.Text.Json.Nodes;
using SmartCity.Ledger.Blocks;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Receipts;

namespace SmartCity.Ledger.Tests.Receipts;

/// <summary>
/// The offline check of a receipt document has one meaning (docs/receipts.md, "One meaning"): not a receipt
/// (exit 2), a receipt that does not prove its claim (exit 1), or valid (exit 0) — never a crash, never a verdict that
/// depends on the machine, and never acceptance of a changed claim.
/// </summary>
public sealed class ReceiptDocumentTests
{
    private static readonly ISecp256k1 Curve = Secp256k1.Default;
    private static readonly SealedChain Chain = SealedChain.Build();

    private static ReceiptReport Check(string json) => Check(Encoding.UTF8.GetBytes(json));

    private static ReceiptReport Check(byte[] utf8) => ReceiptVerifier.VerifyDocument(utf8, Chain.Anchor, Curve);

    private static JsonObject Inclusion() => JsonNode.Parse(ReceiptJson.Write(Chain.InclusionReceipt(4)))!.AsObject();

    private static JsonObject Licence() => JsonNode.Parse(ReceiptJson.Write(Chain.StateReceipt(SealedChain.LicenceKey)))!.AsObject();

    [Fact]
    public void An_untouched_receipt_is_valid_with_exit_code_0_and_a_licence_receipt_reports_the_licence()
    {
        Assert.Equal(0, Check(Inclusion().ToJsonString()).ExitCode);
        var licence = Check(Licence().ToJsonString());
        Assert.Equal(ReceiptOutcome.Valid, licence.Outcome);
        Assert.Equal(SealedChain.LicenceKey["licence/".Length..], licence.Licence!.Identifier);
    }

    [Theory]
    [InlineData("height", "\"3\"")]
    [InlineData("height", "null")]
    [InlineData("version", "\"1\"")]
    [InlineData("version", "null")]
    [InlineData("version", "1.0")]
    [InlineData("leafIndex", "\"4\"")]
    [InlineData("leafIndex", "null")]
    [InlineData("treeSize", "\"37\"")]
    [InlineData("treeSize", "[]")]
    [InlineData("chainId", "8610")]
    [InlineData("chainId", "\"08610\"")]
    [InlineData("headerHash", "42")]
    [InlineData("inclusionPath", "{}")]
    public void A_field_of_the_wrong_json_type_is_not_a_receipt_and_never_a_crash(string field, string value)
    {
        var json = Inclusion();
        json[field] = JsonNode.Parse(value);
        var report = Check(json.ToJsonString());
        Assert.Equal(ReceiptOutcome.NotAReceipt, report.Outcome);
        Assert.StartsWith(field, report.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_block_time_without_an_offset_is_not_a_receipt_in_any_time_zone()
    {
        var json = Inclusion();
        json["blockTime"] = json["blockTime"]!.GetValue<string>().TrimEnd('Z');
        var report = Check(json.ToJsonString());
        Assert.Equal(ReceiptOutcome.NotAReceipt, report.Outcome);
        Assert.StartsWith("blockTime: expected an RFC 3339 time with an offset", report.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_block_time_written_with_another_offset_is_the_same_claim()
    {
        var json = Inclusion();
        json["blockTime"] = Chain.Head.Timestamp.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(ReceiptOutcome.Valid, Check(json.ToJsonString()).Outcome);
    }

    [Fact]
    public void Hex_is_read_in_either_case()
    {
        var json = Inclusion();
        json["headerHash"] = "0x" + json["headerHash"]!.GetValue<string>()[2..].ToUpperInvariant();
        json["header"] = "0x" + json["header"]!.GetValue<string>()[2..].ToUpperInvariant();
        Assert.Equal(ReceiptOutcome.Valid, Check(json.ToJsonString()).Outcome);
    }

    [Fact]
    public void A_header_byte_flipped_is_invalid_whether_or_not_the_readable_copies_were_rewritten()
    {
        var header = Chain.Head.Encode();
        header[120] ^= 0x01; // inside the state root
        var flipped = Inclusion();
        flipped["header"] = "0x" + Convert.ToHexStringLower(header);
        Assert.Equal(ReceiptOutcome.Invalid, Check(flipped.ToJsonString()).Outcome);

        BlockHeader.TryDecode(header, out var decoded, out _);
        flipped["headerHash"] = decoded!.Hash.ToString();
        var rewritten = Check(flipped.ToJsonString());
        Assert.Equal(ReceiptOutcome.Invalid, rewritten.Outcome);
        Assert.Equal(ReceiptCheck.CertificateInvalid, rewritten.Check);
    }

    [Fact]
    public void A_header_whose_timestamp_is_outside_the_representable_range_is_invalid_not_a_crash()
    {
        var header = Chain.Head.Encode();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(49), long.MaxValue);
        var json = Inclusion();
        json["header"] = "0x" + Convert.ToHexStringLower(header);
        var report = Check(json.ToJsonString());
        Assert.Equal(ReceiptOutcome.Invalid, report.Outcome);
        Assert.Contains("timestamp", report.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Seals_written_with_v_0_or_1_are_not_the_canonical_encoding_and_are_invalid()
    {
        var certificate = Chain.Certificate.Encode();
        for (var i = 0; i < Chain.Certificate.Seals.Length; i++)
        {
            certificate[47 + (i * 65) + 64] -= 27;
        }

        var json = Inclusion();
        json["certificate"] = "0x" + Convert.ToHexStringLower(certificate);
        var report = Check(json.ToJsonString());
        Assert.Equal(ReceiptOutcome.Invalid, report.Outcome);
        Assert.Matches("NotCanonical: seal 0 has v = [01];", report.Reason);
    }

    [Fact]
    public void A_licence_key_whose_proven_value_is_not_a_licence_record_is_invalid()
    {
        var junk = SealedChain.Build(licenceValue: [1, 2, 3]);
        var json = ReceiptJson.Write(junk.StateReceipt(SealedChain.LicenceKey));
        var report = ReceiptVerifier.VerifyDocument(Encoding.UTF8.GetBytes(json), junk.Anchor, Curve);
        Assert.Equal(ReceiptOutcome.Invalid, report.Outcome);
        Assert.Equal(ReceiptCheck.ValueNotDecodable, report.Check);
    }

    [Fact]
    public void Invalid_utf8_is_not_a_receipt()
    {
        var bytes = Encoding.UTF8.GetBytes(Licence().ToJsonString()).ToList();
        var at = bytes.IndexOf((byte)'6'); // inside the licence identifier of stateKey
        bytes.InsertRange(at, new byte[] { 0xC3, 0x28 });
        var report = Check([.. bytes]);
        Assert.Equal(ReceiptOutcome.NotAReceipt, report.Outcome);
        Assert.Equal("not UTF-8 text", report.Reason);
    }

    [Fact]
    public void Unknown_and_duplicate_fields_are_refused()
    {
        var extra = Inclusion();
        extra["status"] = "valid";
        Assert.Equal(ReceiptOutcome.NotAReceipt, Check(extra.ToJsonString()).Outcome);

        var text = Inclusion().ToJsonString();
        var duplicate = text.Insert(1, "\"height\":99,");
        Assert.Equal(ReceiptOutcome.NotAReceipt, Check(duplicate).Outcome);
    }

    /// <summary>
    /// Seeded mutations of receipts of both types: every byte position replaced by random bytes, and every field
    /// removed, nulled, retyped, duplicated, and joined by an unknown field. The verifier must never throw, and any
    /// mutation it calls valid must carry exactly the original claim (its canonical form is unchanged).
    /// Replay a failure with SMARTCITY_RECEIPT_SEED=&lt;seed&gt;.
    /// </summary>
    [Fact]
    public void No_mutation_of_a_receipt_crashes_the_verifier_or_changes_a_claim_it_accepts()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SMARTCITY_RECEIPT_SEED"), out var s) ? s : 20261201;
        var random = new Random(seed);
        var checkedCount = 0;
        foreach (Receipt original in new Receipt[] { Chain.InclusionReceipt(9), Chain.StateReceipt(SealedChain.LicenceKey), Chain.StateReceipt("licence/absent") })
        {
            var canonical = ReceiptJson.Write(original);
            var bytes = Encoding.UTF8.GetBytes(canonical);
            for (var position = 0; position < bytes.Length; position++)
            {
                for (var k = 0; k < 2; k++)
                {
                    var mutated = (byte[])bytes.Clone();
                    mutated[position] = (byte)random.Next(256);
                    Assert.True(Holds(mutated, canonical), $"byte {position} of {original.GetType().Name} set to 0x{mutated[position]:x2} (seed {seed}): accepted a changed claim");
                    checkedCount++;
                }
            }

            var json = JsonNode.Parse(canonical)!.AsObject();
            foreach (var name in json.Select(p => p.Key).ToList())
            {
                foreach (var replacement in new JsonNode?[] { null, JsonValue.Create(0), JsonValue.Create(-1), JsonValue.Create(long.MaxValue), JsonValue.Create("x"), JsonValue.Create(""), JsonValue.Create(true), new JsonArray(), new JsonObject(), JsonValue.Create(1.5) })
                {
                    var changed = json.DeepClone().AsObject();
                    changed[name] = replacement?.DeepClone();
                    Assert.True(Holds(Encoding.UTF8.GetBytes(changed.ToJsonString()), canonical), $"field {name} set to {replacement?.ToJsonString() ?? "null"}");

                    var removed = json.DeepClone().AsObject();
                    removed.Remove(name);
                    Assert.True(Holds(Encoding.UTF8.GetBytes(removed.ToJsonString()), canonical), $"field {name} removed");

                    var duplicated = "{" + $"\"{name}\":{replacement?.ToJsonString() ?? "null"}," + json.ToJsonString()[1..];
                    Assert.True(Holds(Encoding.UTF8.GetBytes(duplicated), canonical), $"field {name} duplicated");
                    checkedCount += 3;
                }
            }

            var added = json.DeepClone().AsObject();
            added["note"] = "VALID";
            Assert.True(Holds(Encoding.UTF8.GetBytes(added.ToJsonString()), canonical), "an unknown field was accepted");
        }

        Assert.True(checkedCount > 10_000, $"only {checkedCount} mutations were tried");
    }

    /// <summary>The document is checked without an exception; if valid, it says exactly what the original said.</summary>
    private static bool Holds(byte[] document, string originalCanonical)
    {
        var report = Check(document);
        return report.Outcome != ReceiptOutcome.Valid || ReceiptJson.Write(report.Receipt!) == originalCanonical;
    }
}
