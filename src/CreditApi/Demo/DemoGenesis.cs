using System.Text.Json;
using System.Text.Json.Nodes;
using SmartCity.Ledger.Crypto;
using SmartCity.Ledger.Keys;

namespace SmartCity.CreditApi.Demo;

/// <summary>
/// The sample genesis in a crypto suite: for eth the file as shipped; for gm the same chain with <c>"crypto": "gm"</c>
/// and the members' and validators' addresses replaced by the gm addresses of the same public test keys (the integers
/// 1-6 and 101-104 as SM2 private keys; address = last 20 bytes of SM3(x‖y)), so the tour signs with the same keys in
/// either suite.
/// </summary>
public static class DemoGenesis
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string ForSuite(string sampleGenesisText, CryptoSuiteId suite)
    {
        if (suite == CryptoSuiteId.Eth)
        {
            return sampleGenesisText;
        }

        var genesis = JsonNode.Parse(sampleGenesisText)!.AsObject();
        genesis["crypto"] = suite.ToName();
        var members = genesis["members"]!.AsArray();
        for (var i = 0; i < members.Count; i++)
        {
            members[i]!["address"] = DevelopmentKeystores.SampleAddress(i + 1, suite).ToString();
        }

        var validators = genesis["validators"]!.AsArray();
        for (var i = 0; i < validators.Count; i++)
        {
            validators[i]!["address"] = DevelopmentKeystores.SampleAddress(101 + i, suite).ToString();
        }

        return genesis.ToJsonString(Indented) + "\n";
    }
}
