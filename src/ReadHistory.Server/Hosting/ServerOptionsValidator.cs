using Microsoft.Extensions.Options;
using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Hosting;

/// <summary>The process's own keys, and the one rule across rooms: naming the cdc role needs Redis.</summary>
internal sealed class ServerOptionsValidator(IOptions<RedisOptions> redis) : IValidateOptions<ServerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        try
        {
            // "all" without Redis is a single node without change streams; naming cdc explicitly needs Redis.
            ServerRolesParser.Parse(options.Roles);
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
