using Grpc.Core;

namespace ReadHistory.TestSupport;

/// <summary>
/// A <see cref="ServerCallContext"/> for calling handlers and interceptors directly, with no server behind it
/// (Grpc.Core.Testing has none for 2.x). Response headers written through it are kept in <see cref="ResponseHeaders"/>.
/// </summary>
public sealed class TestServerCallContext : ServerCallContext
{
    private readonly string _method;
    private readonly string _host;
    private readonly string _peer;
    private readonly DateTime _deadline;
    private readonly Metadata _requestHeaders;
    private readonly CancellationToken _cancellationToken;
    private readonly Metadata _responseTrailers = [];
    private readonly Dictionary<object, object> _userState = [];
    private Status _status = Status.DefaultSuccess;

    private TestServerCallContext(string method, string host, string peer, DateTime deadline, Metadata requestHeaders, CancellationToken cancellationToken)
    {
        _method = method;
        _host = host;
        _peer = peer;
        _deadline = deadline;
        _requestHeaders = requestHeaders;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The headers the handler sent with <see cref="ServerCallContext.WriteResponseHeadersAsync"/>, or null.</summary>
    public Metadata? ResponseHeaders { get; private set; }

    protected override string MethodCore => _method;

    protected override string HostCore => _host;

    protected override string PeerCore => _peer;

    protected override DateTime DeadlineCore => _deadline;

    protected override Metadata RequestHeadersCore => _requestHeaders;

    protected override CancellationToken CancellationTokenCore => _cancellationToken;

    protected override Metadata ResponseTrailersCore => _responseTrailers;

    protected override Status StatusCore
    {
        get => _status;
        set => _status = value;
    }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override IDictionary<object, object> UserStateCore => _userState;

    /// <summary>Creates a context; every argument has a harmless default.</summary>
    public static TestServerCallContext Create(
        string method = "/test.Service/Method",
        DateTime? deadline = null,
        Metadata? requestHeaders = null,
        string host = "localhost",
        string peer = "ipv4:127.0.0.1:50000",
        CancellationToken cancellationToken = default) =>
        new(method, host, peer, deadline ?? DateTime.MaxValue, requestHeaders ?? [], cancellationToken);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("a test call context propagates nothing");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        if (ResponseHeaders is not null)
        {
            throw new InvalidOperationException("Response headers can only be sent once per call.");
        }

        ResponseHeaders = responseHeaders;
        return Task.CompletedTask;
    }
}
