using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>Hand-made gRPC requests over a plain HttpClient, for inputs a gRPC client would never send.</summary>
internal static class RawGrpc
{
    /// <summary>A message framed as gRPC does: a compressed flag, a big-endian length, the bytes.</summary>
    public static byte[] Frame(IMessage message) => Frame(0, message.ToByteArray());

    public static byte[] Frame(byte flag, byte[] payload)
    {
        var bytes = new byte[5 + payload.Length];
        bytes[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    public static HttpContent Body(byte[] bytes, string contentType = "application/grpc")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    public static async Task<RawResponse> PostAsync(HttpClient client, string path, HttpContent content, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await SendAsync(client, request);
    }

    public static async Task<RawResponse> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        // A request message does not take the client's default version: ask for HTTP/2 (h2c) here.
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        var body = await response.Content.ReadAsByteArrayAsync().DefaultTimeout();
        var headerStatus = Value(response.Headers, "grpc-status");
        return new RawResponse(
            response.StatusCode,
            headerStatus ?? Value(response.TrailingHeaders, "grpc-status"),
            headerStatus is not null ? Value(response.Headers, "grpc-message") : Value(response.TrailingHeaders, "grpc-message"),
            body,
            response.Content.Headers.ContentType?.MediaType);
    }

    private static string? Value(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? string.Join(',', values) : null;
}

/// <summary>What came back for a raw request.</summary>
internal sealed record RawResponse(HttpStatusCode HttpStatus, string? GrpcStatus, string? GrpcMessage, byte[] Body, string? ContentType)
{
    public StatusCode? Code => GrpcStatus is null ? null : (StatusCode)int.Parse(GrpcStatus, System.Globalization.CultureInfo.InvariantCulture);
}
