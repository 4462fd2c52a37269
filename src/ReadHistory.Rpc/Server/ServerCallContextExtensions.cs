using Microsoft.AspNetCore.Http;

namespace ReadHistory.Rpc.Server;

/// <summary>Reaches the ASP.NET Core request behind a call.</summary>
public static class ServerCallContextExtensions
{
    /// <summary>The HttpContext of a call served by this server.</summary>
    public static HttpContext GetHttpContext(this ServerCallContext context) =>
        context is HttpServerCallContext call
            ? call.HttpContext
            : throw new InvalidOperationException("this call context does not come from the HTTP/2 server");
}
