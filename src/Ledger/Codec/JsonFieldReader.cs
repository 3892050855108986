using System.Globalization;
using System.Text.Json;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Codec;

/// <summary>
/// Reads the fields of an EIP-712 <c>message</c> object (as eth_signTypedData_v4 and ethers take it) by name:
/// integers as JSON numbers or decimal strings, address and bytes32 as 0x hex. The first problem is kept in
/// <see cref="Error"/>; reading never throws.
/// </summary>
public sealed class JsonFieldReader(JsonElement message) : IFieldReader
{
    public string? Error { get; private set; }

    public byte UInt8(string name) => (byte)Integer(name, byte.MaxValue);

    public uint UInt32(string name) => (uint)Integer(name, uint.MaxValue);

    public ulong UInt64(string name) => Integer(name, ulong.MaxValue);

    public bool Bool(string name) => Member(name) is { ValueKind: JsonValueKind.True or JsonValueKind.False } e ? e.GetBoolean() : Fail<bool>(name, "a bool");

    public Address Address(string name)
        => Member(name) is { ValueKind: JsonValueKind.String } e && Crypto.Address.TryParse(e.GetString(), out var address, out _) ? address : Fail<Address>(name, "an address");

    public Hash256 Bytes32(string name)
        => Member(name) is { ValueKind: JsonValueKind.String } e && Hash256.TryParse(e.GetString(), out var hash) ? hash : Fail<Hash256>(name, "32 bytes of 0x hex");

    public string String(string name) => Member(name) is { ValueKind: JsonValueKind.String } e ? e.GetString()! : Fail<string>(name, "a string") ?? string.Empty;

    public IReadOnlyList<string> StringArray(string name)
        => Member(name) is { ValueKind: JsonValueKind.Array } e && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
            ? [.. e.EnumerateArray().Select(x => x.GetString()!)]
            : Fail<IReadOnlyList<string>>(name, "an array of strings") ?? [];

    private JsonElement? Member(string name) => message.ValueKind == JsonValueKind.Object && message.TryGetProperty(name, out var value) ? value : null;

    private ulong Integer(string name, ulong max)
    {
        var value = Member(name) switch
        {
            { ValueKind: JsonValueKind.Number } e when e.TryGetUInt64(out var n) => n,
            { ValueKind: JsonValueKind.String } e when ulong.TryParse(e.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
            _ => (ulong?)null,
        };
        return value is { } v && v <= max ? v : Fail<ulong>(name, $"an integer from 0 to {max}");
    }

    private T Fail<T>(string name, string expected)
    {
        Error ??= $"message.{name} must be {expected}";
        return default!;
    }
}
