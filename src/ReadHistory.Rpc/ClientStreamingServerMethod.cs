namespace ReadHistory.Rpc;

/// <summary>A client-streaming handler: reads the request stream, returns one response.</summary>
public delegate Task<TResponse> ClientStreamingServerMethod<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context);
