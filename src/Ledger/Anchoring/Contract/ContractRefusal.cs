using System.Globalization;
using System.Numerics;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.ABI.Model;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.JsonRpc.Client;

namespace SmartCity.Ledger.Anchoring.Contract;

/// <summary>
/// Why the contract refused a call: one of its custom errors (e.g. <c>TooFewSeals(seals=2, quorum=3)</c>) decoded
/// with the compiled ABI, or a plain revert reason. An expected answer, kept as a value.
/// </summary>
/// <param name="Error">The error's name in the contract (e.g. <c>DuplicateSigner</c>), or <c>Revert</c>.</param>
/// <param name="Arguments">The error's named arguments, formatted (hex for bytes, checksummed addresses as given).</param>
public sealed record ContractRefusal(string Error, IReadOnlyList<KeyValuePair<string, string>> Arguments)
{
    public override string ToString()
        => Arguments.Count == 0 ? Error : $"{Error}({string.Join(", ", Arguments.Select(a => $"{a.Key}={a.Value}"))})";

    /// <summary>The argument named <paramref name="name"/>, or null.</summary>
    public string? this[string name] => Arguments.FirstOrDefault(a => a.Key == name).Value;

    /// <summary>Decodes revert data (<c>0x</c> + selector + arguments) with the contract's ABI; null if it is none of its errors.</summary>
    public static ContractRefusal? FromRevertData(string? data)
    {
        if (string.IsNullOrEmpty(data) || !data.IsHex() || data.HexToByteArray().Length < 4)
        {
            return null;
        }

        foreach (var error in CheckpointAnchorArtifacts.Abi.Errors)
        {
            if (!data.IsExceptionEncodedDataForError(error))
            {
                continue;
            }

            var values = error.DecodeErrorDataToDefault(data);
            return new ContractRefusal(error.Name, [.. values.Select(v => new KeyValuePair<string, string>(v.Parameter.Name, Format(v.Result)))]);
        }

        return null;
    }

    /// <summary>The refusal inside a Nethereum exception, if the exception is a revert.</summary>
    public static ContractRefusal? FromException(Exception exception) => exception switch
    {
        SmartContractCustomErrorRevertException custom => FromRevertData(custom.ExceptionEncodedData)
            ?? new ContractRefusal("UnknownError", [new("data", custom.ExceptionEncodedData)]),
        SmartContractRevertException revert => new ContractRefusal("Revert", [new("reason", revert.RevertMessage ?? revert.Message)]),

        // Nethereum decodes reverts of calls and estimates of calls; a deployment's estimate comes back raw.
        RpcResponseException rpc => FromRevertData(rpc.RpcError?.GetDataAsString()),
        _ => null,
    };

    private static string Format(object? value) => value switch
    {
        null => "",
        byte[] bytes => bytes.ToHex(prefix: true),
        BigInteger number => number.ToString(CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>The contract refused a transaction or call: <see cref="Refusal"/> says which of its checks failed.</summary>
public sealed class ContractRefusalException : Exception
{
    public ContractRefusalException(ContractRefusal refusal, Exception? inner = null)
        : base($"the contract refused: {refusal}", inner)
    {
        Refusal = refusal;
    }

    public ContractRefusalException()
        : this(new ContractRefusal("Revert", []))
    {
    }

    public ContractRefusalException(string message)
        : this(new ContractRefusal("Revert", [new("reason", message)]))
    {
    }

    public ContractRefusalException(string message, Exception inner)
        : this(new ContractRefusal("Revert", [new("reason", message)]), inner)
    {
    }

    public ContractRefusal Refusal { get; }
}
