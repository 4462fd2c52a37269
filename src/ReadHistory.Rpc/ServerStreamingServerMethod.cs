namespace ReadHistory.Rpc;

/// <summary>A server-streaming handler: one request in, writes the response stream.</summary>
public delegate Task ServerStreamingServerMethod<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);
