namespace SmartCity.Grpc.Wire;

/// <summary>Metadata to and from HTTP header values: text as it is, <c>-bin</c> values as base64.</summary>
internal static class MetadataCodec
{
    /// <summary>Unpadded base64, which the protocol asks senders to emit.</summary>
    public static string EncodeBinary(byte[] value) => Convert.ToBase64String(value).TrimEnd('=');

    /// <summary>Accepts padded and unpadded base64, as the protocol requires of receivers.</summary>
    public static bool TryDecodeBinary(string value, out byte[] bytes)
    {
        var trimmed = value.Trim();
        var padded = (trimmed.Length % 4) switch
        {
            2 => trimmed + "==",
            3 => trimmed + "=",
            _ => trimmed,
        };
        bytes = new byte[padded.Length / 4 * 3];
        if (Convert.TryFromBase64String(padded, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }

        bytes = [];
        return false;
    }

    /// <summary>
    /// Adds the values of one header to <paramref name="metadata"/>. Malformed entries (bad key, undecodable
    /// base64, non-ASCII text) are dropped rather than failing the call.
    /// </summary>
    public static void AddHeader(Metadata metadata, string name, IEnumerable<string?> values)
    {
        if (GrpcProtocol.IsReservedHeader(name))
        {
            return;
        }

        var binary = Metadata.IsBinaryKey(name.ToLowerInvariant());
        foreach (var raw in values)
        {
            if (raw is null)
            {
                continue;
            }

            // HTTP folds repeated binary headers into one comma-separated value; base64 has no commas.
            foreach (var value in binary ? raw.Split(',') : [raw])
            {
                try
                {
                    if (!binary)
                    {
                        metadata.Add(name, value);
                    }
                    else if (TryDecodeBinary(value, out var bytes))
                    {
                        metadata.Add(name, bytes);
                    }
                }
                catch (ArgumentException)
                {
                    // Not valid metadata: not ours to surface.
                }
            }
        }
    }
}
