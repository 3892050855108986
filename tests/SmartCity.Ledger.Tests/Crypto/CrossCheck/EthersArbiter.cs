using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using SmartCity.Testing;

namespace SmartCity.Ledger.Tests.Crypto.CrossCheck;

/// <summary>
/// ethers (npm, pinned in tests/interop/package-lock.json) hashing typed-data documents in one Node.js process:
/// the third implementation that decides when the project and Nethereum disagree.
/// </summary>
public static class EthersArbiter
{
    private static string Script => RepositoryFiles.Combine("tests", "interop", "eip712", "hash-typed-data.js");

    /// <summary>Why ethers cannot run here, or null.</summary>
    public static string? Problem
        => Directory.Exists(RepositoryFiles.Combine("tests", "interop", "node_modules", "ethers"))
            ? null
            : "tests/interop/node_modules/ethers is missing (run 'npm ci' in tests/interop; scripts/test.sh does)";

    /// <summary>For each document its digest by ethers ("0x…"), or "error: …" when ethers refuses it.</summary>
    public static IReadOnlyList<string> Hash(IReadOnlyList<string> documents)
    {
        if (Problem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        var input = Path.GetTempFileName();
        try
        {
            File.WriteAllText(input, new JsonArray([.. documents.Select(d => JsonNode.Parse(d))]).ToJsonString());
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepositoryFiles.Combine("tests", "interop") };
            start.ArgumentList.Add(Script);
            start.ArgumentList.Add(input);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("ethers did not answer within 60 s");
            }

            Assert.True(process.ExitCode == 0, $"ethers failed: {error.Result}");
            return [.. JsonDocument.Parse(output.Result).RootElement.EnumerateArray().Select(r => r.TryGetProperty("digest", out var d) ? d.GetString()! : "error: " + r.GetProperty("error").GetString())];
        }
        finally
        {
            File.Delete(input);
        }
    }
}
