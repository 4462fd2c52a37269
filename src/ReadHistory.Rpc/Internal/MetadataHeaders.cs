using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ReadHistory.Rpc.Internal;

/// <summary>
/// Custom metadata as HTTP/2 headers (PROTOCOL-HTTP2.md, "Custom-Metadata"): ASCII values as they are, <c>-bin</c>
/// values base64 (sent unpadded; padded and unpadded accepted, several values joined by ',' split again).
/// Reserved names (pseudo-headers, <c>grpc-*</c>, content-type, te, ...) never become metadata.
/// </summary>
internal static class MetadataHeaders
{
    /// <summary>True for header names that belong to the protocol, not to the application.</summary>
    public static bool IsReserved(string name) =>
        name.Length == 0
        || name[0] == ':'
        || name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("content-length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("te", StringComparison.OrdinalIgnoreCase)
        || name.Equals("host", StringComparison.OrdinalIgnoreCase)
        || name.Equals("connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the custom metadata out of ASP.NET Core headers (server: request headers).</summary>
    public static Metadata FromHeaders(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            AddEntries(metadata, name, values);
        }

        return metadata;
    }

    /// <summary>Reads the custom metadata out of HttpClient headers (client: response headers or trailers).</summary>
    public static Metadata FromHeaders(HttpHeaders headers, HttpHeaders? more = null)
    {
        var metadata = new Metadata();
        foreach (var header in headers.NonValidated)
        {
            foreach (var value in header.Value)
            {
                AddEntries(metadata, header.Key, value);
            }
        }

        if (more is not null)
        {
            foreach (var header in more.NonValidated)
            {
                foreach (var value in header.Value)
                {
                    AddEntries(metadata, header.Key, value);
                }
            }
        }

        return metadata;
    }

    /// <summary>Writes metadata into ASP.NET Core headers (server: response headers or trailers).</summary>
    public static void WriteTo(Metadata metadata, IHeaderDictionary headers)
    {
        foreach (var entry in metadata)
        {
            if (IsReserved(entry.Key))
            {
                continue;
            }

            var value = entry.IsBinary ? ToBase64(entry.ValueBytes) : entry.Value;
            headers.Append(entry.Key, value);
        }
    }

    /// <summary>Writes metadata into HttpClient request headers.</summary>
    public static void WriteTo(Metadata metadata, HttpHeaders headers)
    {
        foreach (var entry in metadata)
        {
            if (IsReserved(entry.Key))
            {
                continue;
            }

            var value = entry.IsBinary ? ToBase64(entry.ValueBytes) : entry.Value;
            headers.TryAddWithoutValidation(entry.Key, value);
        }
    }

    /// <summary>Base64 without padding, as the spec asks senders to emit.</summary>
    public static string ToBase64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    /// <summary>Decodes base64 with or without padding; null when it is not base64.</summary>
    public static byte[]? FromBase64(string value)
    {
        var trimmed = value.Trim();
        var padding = (4 - (trimmed.Length % 4)) % 4;
        if (padding == 3)
        {
            return null;
        }

        var padded = padding == 0 ? trimmed : trimmed + new string('=', padding);
        var buffer = new byte[(padded.Length / 4) * 3];
        return Convert.TryFromBase64String(padded, buffer, out var written) ? buffer.AsSpan(0, written).ToArray() : null;
    }

    private static void AddEntries(Metadata metadata, string name, StringValues values)
    {
        foreach (var value in values)
        {
            if (value is not null)
            {
                AddEntries(metadata, name, value);
            }
        }
    }

    private static void AddEntries(Metadata metadata, string name, string value)
    {
        if (IsReserved(name))
        {
            return;
        }

        var key = name.ToLowerInvariant();
        if (!Metadata.Entry.IsValidKey(key))
        {
            return;
        }

        if (!Metadata.Entry.IsBinaryKey(key))
        {
            if (IsPrintableAscii(value))
            {
                metadata.Add(key, value);
            }

            return;
        }

        foreach (var range in value.AsSpan().Split(','))
        {
            var bytes = FromBase64(value[range]);
            if (bytes is not null)
            {
                metadata.Add(key, bytes);
            }
        }
    }

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c < 0x20 || c > 0x7E)
            {
                return false;
            }
        }

        return true;
    }
}
