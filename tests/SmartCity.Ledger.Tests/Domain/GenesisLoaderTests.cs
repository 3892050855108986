using System.Text.Json.Nodes;
using SmartCity.Ledger.Domain;
using SmartCity.Ledger.Genesis;
using SmartCity.Testing;
using SmartCity.Testing.TestKit;

namespace SmartCity.Ledger.Tests.Domain;

public sealed class GenesisLoaderTests
{
    private static readonly string SampleJson = RepositoryFiles.Read("contracts/genesis/sample-genesis.json");

    [Fact]
    public void The_sample_genesis_loads_a_four_region_consortium()
    {
        var result = GenesisLoader.Load(SampleJson);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var genesis = result.Document!;
        Assert.Equal(["BJ", "TJ", "HE", "XA"], genesis.Regions.Select(r => r.Code));
        Assert.Equal(6, genesis.Members.Count);
        Assert.Equal(4, genesis.Validators.Count);
        Assert.Equal(new Eip712DomainSpec("SmartCity.Ledger", "1", 8610), genesis.Eip712Domain);
        Assert.Equal(20, genesis.Parameters.ObjectionDeadlineDays);
        Assert.Equal(GovernanceRule.StrictMajority, genesis.Parameters.Governance);
        Assert.Equal(new PublicationRule(12, 36, 12), genesis.Parameters.Serious);
        Assert.Equal(MemberRole.MemorandumPublisher, genesis.Members[5].Roles);
    }

    [Fact]
    public void The_sample_genesis_addresses_are_those_of_the_documented_test_keys()
    {
        var genesis = GenesisBuilder.Sample.Value;
        Assert.Equal(TestKeys.Members.Select(k => k.Address), genesis.Members.Select(m => m.Address));
        Assert.Equal(TestKeys.Members.Select(k => k.Uscc), genesis.Members.Select(m => m.Uscc.Value));
        Assert.Equal(
            new[] { 101, 102, 103, 104 }.Select(seed => new TestKey(seed, $"validator {seed}", "", "").Address),
            genesis.Validators.Select(v => v.Address));
    }

    [Theory]
    [InlineData("members[1].uscc", "\"11120000MB00000027\"", "$.members[1].uscc", "WrongCheckCharacter")]
    [InlineData("members[0].region", "\"SX\"", "$.members[0].region", "not a region")]
    [InlineData("members[2].roles", "[\"Banker\"]", "$.members[2].roles[0]", "unknown role")]
    [InlineData("members[2].roles", "[]", "$.members[2].roles", "at least one role")]
    [InlineData("members[3].address", "\"0x1efF47bc3a10a45D4B230B5d10E37751FE6AA719\"", "$.members[3].address", "checksum")]
    [InlineData("members[3].address", "\"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf\"", "$.members[3].address", "duplicate")]
    [InlineData("validators[1].region", "\"ZZ\"", "$.validators[1].region", "not a region")]
    [InlineData("eip712Domain.chainId", "1", "$.eip712Domain.chainId", "must equal")]
    [InlineData("chainId", "0", "$.chainId", "positive")]
    [InlineData("formatVersion", "2", "$.formatVersion", "not supported")]
    [InlineData("genesisTime", "\"2026-01-01\"", "$.genesisTime", "UTC time")]
    [InlineData("regions[3].divisionPrefixes", "[\"13\"]", "$.regions[3].divisionPrefixes", "already belongs to region HE")]
    [InlineData("regions[0].divisionPrefixes", "[\"1a\"]", "$.regions[0].divisionPrefixes[0]", "2 to 6 digits")]
    [InlineData("parameters.objectionDeadlineDays", "0", "$.parameters.objectionDeadlineDays", "between 1 and 365")]
    [InlineData("parameters.maxBlockBytes", "1024", "$.parameters.maxBlockBytes", "largest transaction")]
    [InlineData("parameters.publication.moderate.minMonths", "13", "$.parameters.publication.moderate", "exceeds")]
    [InlineData("parameters.governance", "{\"rule\":\"fraction\",\"numerator\":3,\"denominator\":2}", "$.parameters.governance", "below 1")]
    [InlineData("parameters.governance", "{\"rule\":\"dictator\"}", "$.parameters.governance.rule", "strict-majority")]
    [InlineData("crypto", "\"rsa\"", "$.crypto", "\"eth\" (secp256k1/Keccak-256, the default) or \"gm\" (SM2/SM3)")]
    [InlineData("crypto", "1", "$.crypto", "\"eth\" (secp256k1/Keccak-256, the default) or \"gm\"")]
    [InlineData("sm2Id", "\"1234567812345678\"", "$.sm2Id", "only to a \"gm\" chain")]
    public void A_bad_value_is_reported_with_its_json_path_and_reason(string path, string json, string expectedPath, string expectedReason)
    {
        var result = GenesisLoader.Load(Replace(path, json));
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Path == expectedPath && e.Reason.Contains(expectedReason, StringComparison.Ordinal));
    }

    [Fact]
    public void A_genesis_without_crypto_is_an_eth_chain_and_so_is_one_that_says_eth()
    {
        Assert.Equal(GenesisCrypto.Eth, GenesisLoader.Load(SampleJson).Document!.Crypto);
        Assert.Equal(Ledger.Crypto.CryptoSuiteId.Eth, GenesisLoader.Load(Replace("crypto", "\"eth\"")).Document!.Crypto.Suite);
        Assert.Equal("eth", GenesisLoader.Load(SampleJson).Document!.Crypto.CreateSuite().Name);
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var json = JsonNode.Parse(SampleJson)!;
        json["chainId"] = "x";
        json["members"]![0]!["uscc"] = "bad";
        json.AsObject().Remove("validators");
        var result = GenesisLoader.Load(json.ToJsonString());
        Assert.Equal(["$.chainId", "$.members[0].uscc", "$.validators"], result.Errors.Select(e => e.Path).Take(3).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"formatVersion\":1,}")]
    public void Input_that_is_not_a_genesis_object_is_an_error_not_an_exception(string json)
        => Assert.NotEmpty(GenesisLoader.Load(json).Errors);

    [Fact]
    public void A_fraction_rule_is_read_from_genesis()
    {
        var result = GenesisLoader.Load(Replace("parameters.governance", "{\"rule\":\"fraction\",\"numerator\":2,\"denominator\":3}"));
        Assert.Equal(new GovernanceRule(2, 3), result.Document!.Parameters.Governance);
        Assert.True(new GovernanceRule(2, 3).Passes(5, 6));
        Assert.False(new GovernanceRule(2, 3).Passes(4, 6));
        Assert.False(GovernanceRule.StrictMajority.Passes(2, 4));
        Assert.True(GovernanceRule.StrictMajority.Passes(3, 4));
    }

    private static string Replace(string path, string json)
    {
        var root = JsonNode.Parse(SampleJson)!;
        JsonNode node = root;
        var steps = path.Replace("[", ".[", StringComparison.Ordinal).Split('.');
        for (var i = 0; i < steps.Length - 1; i++)
        {
            node = Step(node, steps[i]);
        }

        var last = steps[^1];
        if (last.StartsWith('['))
        {
            node.AsArray()[int.Parse(last[1..^1], System.Globalization.CultureInfo.InvariantCulture)] = JsonNode.Parse(json);
        }
        else
        {
            node[last] = JsonNode.Parse(json);
        }

        return root.ToJsonString();
    }

    private static JsonNode Step(JsonNode node, string step)
        => step.StartsWith('[') ? node.AsArray()[int.Parse(step[1..^1], System.Globalization.CultureInfo.InvariantCulture)]! : node[step]!;
}
