using Microsoft.AspNetCore.Http;
using SmartCity.Grpc.Wire;

namespace SmartCity.Grpc.Server;

/// <summary>Metadata to and from ASP.NET Core header dictionaries.</summary>
internal static class HttpMetadata
{
    public static Metadata Read(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            MetadataCodec.AddHeader(metadata, name, values);
        }

        return metadata;
    }

    public static void Append(IHeaderDictionary headers, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, entry.IsBinary ? MetadataCodec.EncodeBinary(entry.ValueBytes) : entry.Value);
        }
    }

    public static void AppendTrailers(HttpResponse response, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            response.AppendTrailer(entry.Key, entry.IsBinary ? MetadataCodec.EncodeBinary(entry.ValueBytes) : entry.Value);
        }
    }
}
