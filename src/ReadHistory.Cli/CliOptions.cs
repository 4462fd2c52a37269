using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;

namespace ReadHistory.Cli;

/// <summary>
/// The options of the commands, each parsed and checked against the API's limits
/// (protos/readhistory/v1/read_history.proto) so a bad value is a usage error before any call.
/// </summary>
internal static class CliOptions
{
    /// <summary>The server address used when <c>--endpoint</c> is not given.</summary>
    public const string DefaultEndpoint = "http://127.0.0.1:50051";

    /// <summary>The most ids (or items) one call may carry: the API's documented limit.</summary>
    public const int MaxIdsPerCall = ReadHistory.Api.ApiLimits.MaxIdsPerCall;

    /// <summary>A cache node's internal address used when <c>explain --node</c> is not given.</summary>
    public const string DefaultNode = "http://127.0.0.1:50052";

    /// <summary>The server to call; allowed anywhere on the command line.</summary>
    public static Option<Uri> Endpoint() => Address("--endpoint", "The server's address, http://host:port", DefaultEndpoint, recursive: true);

    /// <summary>A cache node's internal port (CacheNode calls such as Explain).</summary>
    public static Option<Uri> Node() => Address("--node", "A cache node's internal address, http://host:port (the node holding the user's slot)", DefaultNode, recursive: false);

    private static Option<Uri> Address(string name, string description, string defaultAddress, bool recursive) => new(name)
    {
        Description = description,
        Recursive = recursive,
        DefaultValueFactory = _ => new Uri(defaultAddress),
        CustomParser = result =>
        {
            var text = result.Tokens[^1].Value;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                return uri;
            }

            result.AddError($"{name}: '{text}' is not an http:// or https:// address");
            return null;
        },
    };

    /// <summary>The environment variable an API key is taken from when <c>--token</c> is not given.</summary>
    public const string TokenVariable = "READHISTORY_TOKEN";

    /// <summary>The API key sent as <c>authorization: Bearer</c>; allowed anywhere on the command line; default $READHISTORY_TOKEN.</summary>
    public static Option<string?> Token() => new("--token")
    {
        Description = "API key sent as 'authorization: Bearer <key>' (default: $" + TokenVariable + "; none: anonymous)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } token ? token : null,
    };

    /// <summary>Machine-readable output; allowed anywhere on the command line.</summary>
    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON object instead of text",
        Recursive = true,
    };

    /// <summary>The user id, 1 .. 2^64-1.</summary>
    public static Option<ulong> User() => new("--user")
    {
        Description = "The user id (1 .. 2^64-1)",
        Required = true,
        CustomParser = static result => ParseUInt64(result, "--user", 1, ulong.MaxValue),
    };

    /// <summary>The content type, 0 .. 65535; 0 when not given.</summary>
    public static Option<uint> ContentType() => new("--type")
    {
        Description = "The content type (0 .. 65535)",
        DefaultValueFactory = _ => 0,
        CustomParser = static result => (uint)ParseUInt64(result, "--type", 0, ushort.MaxValue),
    };

    /// <summary>Content ids, comma-separated (the option may repeat), 1 .. 10,000 of them, each 1 .. 2^64-1.</summary>
    public static Option<ulong[]> Ids() => new("--ids")
    {
        Description = "Content ids, comma-separated: 1,2,3 (at most 10,000)",
        Required = true,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = true,
        CustomParser = ParseIds,
    };

    /// <summary>The optional session id (read-your-writes), at most 128 bytes of UTF-8.</summary>
    public static Option<string> Session() => new("--session")
    {
        Description = "Session id: calls of one session see their own writes (at most 128 bytes)",
        DefaultValueFactory = _ => string.Empty,
        CustomParser = static result => ParseText(result, "--session", 128, tenantCharacters: false),
    };

    /// <summary>The optional tenant tag choosing the cache pool, at most 64 bytes of [a-z0-9_-].</summary>
    public static Option<string> Tenant() => new("--tenant")
    {
        Description = "Tenant tag choosing the cache pool (feed, push, ...); empty = the default pool",
        DefaultValueFactory = _ => string.Empty,
        CustomParser = static result => ParseText(result, "--tenant", 64, tenantCharacters: true),
    };

    /// <summary>The call's deadline in milliseconds; null means none.</summary>
    public static Option<int?> DeadlineMs(int? defaultMs) => new("--deadline-ms")
    {
        Description = defaultMs is null ? "Deadline of the call in milliseconds (default: none)" : "Deadline of the call in milliseconds",
        DefaultValueFactory = _ => defaultMs,
        CustomParser = static result => (int)ParseUInt64(result, "--deadline-ms", 1, int.MaxValue),
    };

    /// <summary>When the reads happened, Unix milliseconds; 0 = when the server receives them.</summary>
    public static Option<long> ReadAtMs() => new("--read-at-ms")
    {
        Description = "When the reads happened, in Unix milliseconds (default 0 = now)",
        CustomParser = static result => (long)ParseUInt64(result, "--read-at-ms", 0, long.MaxValue),
    };

    /// <summary>Parses one unsigned number within [min, max], or records an error naming the option.</summary>
    public static ulong ParseUInt64(ArgumentResult result, string option, ulong min, ulong max)
    {
        var text = result.Tokens[^1].Value;
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            result.AddError($"{option}: '{text}' is not a number in {min} .. {max}");
            return min;
        }

        return value;
    }

    private static ulong[] ParseIds(ArgumentResult result)
    {
        var ids = new List<ulong>();
        foreach (var token in result.Tokens)
        {
            foreach (var part in token.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id == 0)
                {
                    result.AddError($"--ids: '{part}' is not a content id in 1 .. {ulong.MaxValue}");
                    return [];
                }

                ids.Add(id);
            }
        }

        if (ids.Count is 0 or > MaxIdsPerCall)
        {
            result.AddError($"--ids: {ids.Count} ids given, 1 .. {MaxIdsPerCall} allowed per call");
            return [];
        }

        return [.. ids];
    }

    private static string ParseText(ArgumentResult result, string option, int maxBytes, bool tenantCharacters)
    {
        var text = result.Tokens[^1].Value;
        if (Encoding.UTF8.GetByteCount(text) > maxBytes)
        {
            result.AddError($"{option}: at most {maxBytes} bytes of UTF-8 allowed");
        }
        else if (tenantCharacters && !IsTenant(text))
        {
            result.AddError($"{option}: '{text}' may hold only a-z, 0-9, '_' and '-'");
        }

        return text;
    }

    /// <summary>Whether a tenant tag uses only the allowed characters.</summary>
    public static bool IsTenant(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_' || c == '-'))
            {
                return false;
            }
        }

        return true;
    }
}
