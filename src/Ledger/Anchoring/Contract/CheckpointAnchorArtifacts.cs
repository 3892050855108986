using System.Reflection;
using Nethereum.ABI.ABIDeserialisation;
using Nethereum.ABI.Model;

namespace SmartCity.Ledger.Anchoring.Contract;

/// <summary>
/// The compiled CheckpointAnchor contract as built by <c>contracts/solidity/compile.js</c> (solc pinned in
/// <c>contracts/solidity/package-lock.json</c>) and embedded in this assembly: its ABI, from which refusals (custom
/// errors) are decoded, and its creation bytecode, which deployments send.
/// </summary>
public static class CheckpointAnchorArtifacts
{
    private static readonly Lazy<string> LazyAbiJson = new(() => Read("CheckpointAnchor.abi.json"));
    private static readonly Lazy<string> LazyBytecode = new(() => Read("CheckpointAnchor.bin").Trim());
    private static readonly Lazy<ContractABI> LazyAbi = new(() => ABIDeserialiserFactory.DeserialiseContractABI(LazyAbiJson.Value));

    /// <summary>The ABI as the compiler wrote it (JSON).</summary>
    public static string AbiJson => LazyAbiJson.Value;

    /// <summary>The creation bytecode, hex without <c>0x</c>.</summary>
    public static string Bytecode => LazyBytecode.Value;

    /// <summary>The parsed ABI (functions, events, errors).</summary>
    public static ContractABI Abi => LazyAbi.Value;

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the assembly lacks its embedded {name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
