using System.Buffers;
using Google.Protobuf;

namespace ReadHistory.Rpc;

/// <summary>Describes one RPC method: its kind, its names and how to parse its messages.</summary>
/// <typeparam name="TRequest">The request message.</typeparam>
/// <typeparam name="TResponse">The response message.</typeparam>
public sealed class Method<TRequest, TResponse> : IMethod
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    /// <summary>Creates a method descriptor.</summary>
    /// <param name="type">Unary or streaming.</param>
    /// <param name="serviceName">The full service name, e.g. <c>readhistory.v1.ReadHistory</c>.</param>
    /// <param name="name">The method name, e.g. <c>Check</c>.</param>
    /// <param name="requestParser">Parses requests (the generated <c>Parser</c> property).</param>
    /// <param name="responseParser">Parses responses.</param>
    public Method(MethodType type, string serviceName, string name, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(requestParser);
        ArgumentNullException.ThrowIfNull(responseParser);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        RequestParser = requestParser;
        ResponseParser = responseParser;
        FullName = "/" + serviceName + "/" + name;
    }

    /// <inheritdoc />
    public MethodType Type { get; }

    /// <inheritdoc />
    public string ServiceName { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string FullName { get; }

    /// <summary>Parses request messages.</summary>
    public MessageParser<TRequest> RequestParser { get; }

    /// <summary>Parses response messages.</summary>
    public MessageParser<TResponse> ResponseParser { get; }

    /// <summary>
    /// Client side only: turns a response payload into a message in place of <see cref="ResponseParser"/> (for a caller
    /// that reads large byte fields without protobuf's copy of each). It throws <see cref="InvalidDataException"/> for
    /// bytes that are not the message; the call then fails with INTERNAL naming the problem. The payload is valid only
    /// during the call.
    /// </summary>
    public Func<ReadOnlySequence<byte>, TResponse>? ResponseDecoder { get; init; }
}
