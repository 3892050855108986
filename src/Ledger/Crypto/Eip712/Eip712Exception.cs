namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>What was wrong with a typed-data document.</summary>
public enum Eip712Error
{
    /// <summary>Not JSON, or not the eth_signTypedData_v4 shape (types, primaryType, domain, message).</summary>
    MalformedDocument = 1,

    /// <summary>A struct or field name, or a field type, is not well formed (e.g. <c>uint7</c>, <c>bytes33</c>, duplicate field).</summary>
    InvalidTypeDefinition,

    /// <summary>A field refers to a type that is neither elementary nor defined in <c>types</c>.</summary>
    UnknownType,

    /// <summary>A struct value lacks one of its type's fields.</summary>
    MissingValue,

    /// <summary>A value has the wrong JSON kind or text for its type (e.g. a bad address or odd hex).</summary>
    InvalidValue,

    /// <summary>An integer does not fit its <c>intN</c>/<c>uintN</c> type.</summary>
    IntegerOutOfRange,

    /// <summary>A fixed-size array value has the wrong number of elements, or <c>bytesN</c> the wrong number of bytes.</summary>
    WrongLength,
}

/// <summary>A typed-data document that cannot be encoded, with the JSON path of the offending part.</summary>
public sealed class Eip712Exception(Eip712Error error, string path, string message)
    : Exception(path.Length == 0 ? message : $"{path}: {message}")
{
    public Eip712Error Error { get; } = error;

    /// <summary>Where in the document, e.g. <c>message.to.wallets[1]</c>; empty for the document itself.</summary>
    public string Path { get; } = path;
}
