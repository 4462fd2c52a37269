using ReadHistory.Rpc.Tests.Conformance.V1;

namespace ReadHistory.Rpc.Tests.Infrastructure;

/// <summary>Method descriptors of conformance.v1.Echo (echo.proto).</summary>
public static class EchoMethods
{
    public const string ServiceName = "conformance.v1.Echo";

    public static readonly Method<EchoRequest, EchoReply> Unary =
        new(MethodType.Unary, ServiceName, "Unary", EchoRequest.Parser, EchoReply.Parser);

    public static readonly Method<EchoRequest, EchoReply> ClientStream =
        new(MethodType.ClientStreaming, ServiceName, "ClientStream", EchoRequest.Parser, EchoReply.Parser);

    public static readonly Method<EchoRequest, EchoReply> ServerStream =
        new(MethodType.ServerStreaming, ServiceName, "ServerStream", EchoRequest.Parser, EchoReply.Parser);

    /// <summary>A method the servers do not have.</summary>
    public static readonly Method<EchoRequest, EchoReply> Missing =
        new(MethodType.Unary, ServiceName, "Missing", EchoRequest.Parser, EchoReply.Parser);

    /// <summary>A service the servers do not have.</summary>
    public static readonly Method<EchoRequest, EchoReply> MissingService =
        new(MethodType.Unary, "conformance.v1.Nowhere", "Unary", EchoRequest.Parser, EchoReply.Parser);
}
