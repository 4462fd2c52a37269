using Microsoft.Extensions.Options;
using ReadHistory.Server.Auth;
using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// The process's own keys, and the rules across rooms: naming the cdc role needs Redis; a public API on a non-loopback
/// address needs authentication, or anonymous access allowed in so many words (secure by default).
/// </summary>
internal sealed class ServerOptionsValidator(IOptions<RedisOptions> redis, IOptions<AuthOptions> auth) : IValidateOptions<ServerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        try
        {
            // "all" without Redis is a single node without change streams; naming cdc explicitly needs Redis.
            var roles = ServerRolesParser.Parse(options.Roles);
            if (roles.HasFlag(ServerRoles.Proxy) && auth.Value.Mode == AuthMode.Off && !auth.Value.AllowAnonymous && !options.PublicIsLoopback())
            {
                problems.Add($"{AuthOptions.Section}:Mode: authentication is off and the public API listens on '{options.GrpcListen}', not a loopback address: set {AuthOptions.Section}:Mode to ApiKeys, or {AuthOptions.Section}:AllowAnonymous to true to serve anyone who reaches it");
            }

            if (auth.Value.ClientCaPath.Length > 0 && options.TlsCertificatePath.Length == 0)
            {
                problems.Add($"{AuthOptions.Section}:ClientCaPath: client certificates need TLS on the public port: set {ServerOptions.Section}:TlsCertificatePath");
            }

            if (options.Roles.Contains("cdc", StringComparison.OrdinalIgnoreCase) && !redis.Value.IsConfigured)
            {
                problems.Add($"{RedisOptions.Section}:Configuration: the cdc role publishes to Redis streams; set a Redis configuration");
            }
        }
        catch (FormatException e)
        {
            problems.Add($"{ServerOptions.Section}:Roles: {e.Message}");
        }

        options.Validate(problems);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
