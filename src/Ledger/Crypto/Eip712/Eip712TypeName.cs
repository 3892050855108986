using System.Globalization;

namespace SmartCity.Ledger.Crypto.Eip712;

/// <summary>Parsing of EIP-712 type names: elementary types, struct identifiers and array suffixes.</summary>
internal static class Eip712TypeName
{
    /// <summary>For <c>T[]</c> or <c>T[k]</c>: the element type T (itself possibly an array) and k.</summary>
    public static bool TryGetArrayElement(string type, out string elementType, out int? fixedLength)
    {
        elementType = type;
        fixedLength = null;
        if (!type.EndsWith(']'))
        {
            return false;
        }

        var open = type.LastIndexOf('[');
        var inner = type.AsSpan(open + 1, type.Length - open - 2);
        elementType = type[..open];
        if (inner.Length > 0)
        {
            fixedLength = int.Parse(inner, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return true;
    }

    /// <summary>The type without any array suffix: <c>Person</c> for <c>Person[2][]</c>.</summary>
    public static string BaseOf(string type)
    {
        var open = type.IndexOf('[', StringComparison.Ordinal);
        return open < 0 ? type : type[..open];
    }

    /// <summary>Every suffix is <c>[]</c> or <c>[digits]</c> and nothing follows the last <c>]</c>.</summary>
    public static bool IsWellFormedArraySuffix(string type)
    {
        var suffix = type.AsSpan(BaseOf(type).Length);
        while (!suffix.IsEmpty)
        {
            var close = suffix.IndexOf(']');
            if (suffix[0] != '[' || close < 0)
            {
                return false;
            }

            var inner = suffix[1..close];
            if (inner.ContainsAnyExcept("0123456789") || inner.Length > 9)
            {
                return false;
            }

            suffix = suffix[(close + 1)..];
        }

        return true;
    }

    public static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var ch in name)
        {
            if (!char.IsAsciiLetterOrDigit(ch) && ch is not '_' and not '$')
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsElementary(string type)
        => type is "bool" or "address" or "string" or "bytes" || TryParseFixedBytes(type, out _) || TryParseInteger(type, out _, out _);

    /// <summary><c>bytes1</c> … <c>bytes32</c>.</summary>
    public static bool TryParseFixedBytes(string type, out int width)
    {
        width = 0;
        return type.StartsWith("bytes", StringComparison.Ordinal)
            && TryParseSize(type.AsSpan(5), out width) && width is >= 1 and <= 32;
    }

    /// <summary><c>uint8</c> … <c>uint256</c> and <c>int8</c> … <c>int256</c> in steps of 8.</summary>
    public static bool TryParseInteger(string type, out bool signed, out int bits)
    {
        signed = type.StartsWith("int", StringComparison.Ordinal);
        var digits = signed ? type.AsSpan(3) : type.StartsWith("uint", StringComparison.Ordinal) ? type.AsSpan(4) : default;
        bits = 0;
        return !digits.IsEmpty && TryParseSize(digits, out bits) && bits is >= 8 and <= 256 && bits % 8 == 0;
    }

    private static bool TryParseSize(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        return digits.Length is > 0 and <= 3 && digits[0] != '0' && !digits.ContainsAnyExcept("0123456789")
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
