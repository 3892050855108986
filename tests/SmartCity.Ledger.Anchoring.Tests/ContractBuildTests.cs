using System.Diagnostics;
using SmartCity.Ledger.Anchoring.Contract;
using SmartCity.Testing;
using SmartCity.Testing.Evm;

namespace SmartCity.Ledger.Anchoring.Tests;

/// <summary>
/// The committed ABI and bytecode (contracts/solidity/build, embedded in the anchoring assembly) are exactly what the
/// pinned solc compiles from CheckpointAnchor.sol: nobody can change the source without the build outputs, or deploy
/// bytecode that the reviewed source does not produce.
/// </summary>
public sealed class ContractBuildTests
{
    [EvmFact]
    public async Task The_committed_and_embedded_abi_and_bytecode_are_what_the_pinned_solc_compiles_from_the_source()
    {
        var output = Directory.CreateTempSubdirectory("smartcity-solc-");
        try
        {
            var (exitCode, stderr) = await RunNodeAsync(RepositoryFiles.PathOf("contracts/solidity/compile.js"), "--out", output.FullName);
            Assert.True(exitCode == 0, $"compile.js exited {exitCode}: {stderr}");

            foreach (var name in new[] { "CheckpointAnchor.abi.json", "CheckpointAnchor.bin" })
            {
                var compiled = await File.ReadAllTextAsync(Path.Combine(output.FullName, name));
                var committed = await File.ReadAllTextAsync(RepositoryFiles.PathOf($"contracts/solidity/build/{name}"));
                Assert.True(compiled == committed, $"contracts/solidity/build/{name} is not what solc compiles; run: node contracts/solidity/compile.js");
            }

            Assert.Equal((await File.ReadAllTextAsync(Path.Combine(output.FullName, "CheckpointAnchor.abi.json"))).Trim(), CheckpointAnchorArtifacts.AbiJson.Trim());
            Assert.Equal((await File.ReadAllTextAsync(Path.Combine(output.FullName, "CheckpointAnchor.bin"))).Trim(), CheckpointAnchorArtifacts.Bytecode);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Stderr)> RunNodeAsync(params string[] args)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        await stdout;
        return (process.ExitCode, await stderr);
    }
}
