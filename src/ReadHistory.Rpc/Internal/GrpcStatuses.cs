using System.Globalization;

namespace ReadHistory.Rpc.Internal;

/// <summary>The statuses this layer answers with, shared by server and client; fixed ones are allocated once.</summary>
internal static class GrpcStatuses
{
    public static readonly Status IncompleteMessage = new(StatusCode.Internal, "Incomplete message.");
    public static readonly Status FailedToDeserialize = new(StatusCode.Internal, "Failed to deserialize message.");
    public static readonly Status FailedToDecompress = new(StatusCode.Internal, "Failed to decompress message.");
    public static readonly Status CompressedWithoutEncoding = new(StatusCode.Internal, "Request sent with a compressed message but no grpc-encoding.");
    public static readonly Status MissingRequestMessage = new(StatusCode.Internal, "Request did not include a message.");
    public static readonly Status AdditionalRequestMessage = new(StatusCode.Internal, "Additional message received for a single-message request.");
    public static readonly Status HandlerException = new(StatusCode.Unknown, "Exception was thrown by handler.");
    public static readonly Status DeadlineExceeded = new(StatusCode.DeadlineExceeded, "Deadline Exceeded");
    public static readonly Status ClientCancelled = new(StatusCode.Cancelled, "Call canceled by the client.");
    public static readonly Status ServiceUnimplemented = new(StatusCode.Unimplemented, "Service is unimplemented.");
    public static readonly Status MethodUnimplemented = new(StatusCode.Unimplemented, "Method is unimplemented.");
    public static readonly Status MissingResponseMessage = new(StatusCode.Internal, "Failed to deserialize response message: no message in the response.");
    public static readonly Status MissingStatus = new(StatusCode.Internal, "No grpc-status found on response.");

    public static Status ReceivedMessageTooLarge(uint length, int limit) =>
        new(StatusCode.ResourceExhausted, string.Create(CultureInfo.InvariantCulture,
            $"Received message exceeds the maximum configured message size ({length} > {limit} bytes)."));

    public static Status SentMessageTooLarge(int length, int limit) =>
        new(StatusCode.ResourceExhausted, string.Create(CultureInfo.InvariantCulture,
            $"Sending message exceeds the maximum configured message size ({length} > {limit} bytes)."));

    public static Status UnsupportedEncoding(string encoding) =>
        new(StatusCode.Unimplemented, $"Unsupported grpc-encoding value '{encoding}'. Supported encodings: {GrpcProtocolConstants.AcceptedEncodings}");
}
