namespace ReadHistory.Rpc.Server;

/// <summary>One method of a <see cref="ServerServiceDefinition"/>: its descriptor and how to make its request delegate.</summary>
internal sealed class ServerMethodDefinition
{
    private readonly Func<GrpcServerSettings, ServerCallHandler> _createHandler;

    public ServerMethodDefinition(IMethod method, Func<GrpcServerSettings, ServerCallHandler> createHandler)
    {
        Method = method;
        _createHandler = createHandler;
    }

    public IMethod Method { get; }

    public ServerCallHandler CreateHandler(GrpcServerSettings settings) => _createHandler(settings);
}
