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

    [EvmFact]
    public async Task The_compile_check_fails_when_the_committed_bytecode_differs_from_the_source()
    {
        // compile.js --check compares with the build/ beside the script: run a copy whose build/ was tampered with.
        var copy = Directory.CreateTempSubdirectory("smartcity-solc-check-");
        try
        {
            var source = RepositoryFiles.PathOf("contracts/solidity");
            File.Copy(Path.Combine(source, "compile.js"), Path.Combine(copy.FullName, "compile.js"));
            File.Copy(Path.Combine(source, "CheckpointAnchor.sol"), Path.Combine(copy.FullName, "CheckpointAnchor.sol"));
            Directory.CreateSymbolicLink(Path.Combine(copy.FullName, "node_modules"), Path.Combine(source, "node_modules"));
            var build = Directory.CreateDirectory(Path.Combine(copy.FullName, "build")).FullName;
            File.Copy(Path.Combine(source, "build", "CheckpointAnchor.abi.json"), Path.Combine(build, "CheckpointAnchor.abi.json"));
            var bytecode = await File.ReadAllTextAsync(Path.Combine(source, "build", "CheckpointAnchor.bin"));
            await File.WriteAllTextAsync(Path.Combine(build, "CheckpointAnchor.bin"), bytecode.Replace("6080", "6081", StringComparison.Ordinal));

            var (exitCode, stderr) = await RunNodeAsync(Path.Combine(copy.FullName, "compile.js"), "--check");

            Assert.Equal(1, exitCode);
            Assert.Contains("build/CheckpointAnchor.bin differs", stderr, StringComparison.Ordinal);
        }
        finally
        {
            copy.Delete(recursive: true);
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
