namespace ReadHistory.Rpc;

/// <summary>A unary handler: one request in, one response out.</summary>
public delegate Task<TResponse> UnaryServerMethod<TRequest, TResponse>(TRequest request, ServerCallContext context);
